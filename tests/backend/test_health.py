from sqlalchemy import text


def test_live_answers_without_touching_the_database(api) -> None:
    assert api.get("/health/live").json() == {"status": "live"}


def test_ready_when_the_database_is_reachable_and_migrated(api) -> None:
    response = api.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_not_ready_when_migrations_are_behind(api, db) -> None:
    with db.engine.begin() as connection:
        (version,) = connection.execute(text("SELECT version_num FROM alembic_version")).one()
        connection.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    try:
        response = api.get("/health/ready")
        assert response.status_code == 503
        assert "Retry-After" in response.headers
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})
