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


def test_not_ready_when_the_database_accepts_no_writes(api, db) -> None:
    """SQLite: a write lock cannot be taken. PostgreSQL: new transactions are read-only
    (as on a standby)."""
    from sqlalchemy import event

    from backend.db import Database, reset_database

    read_only = Database(db.settings)
    if db.engine.dialect.name == "sqlite":

        @event.listens_for(read_only.engine, "connect")
        def _query_only(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA query_only = ON")

    else:

        @event.listens_for(read_only.engine, "connect")
        def _read_only(dbapi_connection, _record) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()

    reset_database(read_only)
    try:
        response = api.get("/health/ready")
    finally:
        reset_database(db)
        read_only.engine.dispose()
    assert response.status_code == 503
    assert response.json()["detail"] == "The database accepts no writes."
