"""Contract fuzzing: schemathesis drives every operation of the OpenAPI schema, per role.

Schemathesis (not written here) generates valid and invalid requests from the schema
the app serves and checks each answer: no 5xx, the status code and body are the ones
the schema declares, invalid input is refused, and routes that need a token refuse
requests without one. It runs in-process against a migrated SQLite database holding
one therapist's client with sessions, ratings and flags, once per role.

``RAPPORT_FUZZ_EXAMPLES`` sets the examples per operation (``make fuzz`` raises it).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlmodel import select

from backend.config import Settings, get_settings
from backend.db import Database, reset_database
from backend.factories import add_access_token, add_client, add_staff, add_therapy_session
from backend.flags.models import Flag
from backend.flows import submit_rating
from backend.main import app
from backend.ratings.schemas import RatingSubmission
from backend.teams.service import team_named
from backend.therapy.service import issue_link
from backend.users.models import User
from tests.backend.factories import PASSWORD_HASH, talk_flag
from tests.conftest import empty_all_tables, migrate

pytestmark = pytest.mark.contract_fuzz

ROLES = ("anonymous", "therapist", "supervisor", "admin")
EXAMPLES = int(os.environ.get("RAPPORT_FUZZ_EXAMPLES", "10"))
#: make test replays the same cases every run; make fuzz (a larger count) explores anew.
DETERMINISTIC = "RAPPORT_FUZZ_EXAMPLES" not in os.environ


@dataclass(frozen=True)
class FuzzWorld:
    """Ids of real objects, so generated paths hit them at least some of the time."""

    user_ids: dict[str, int]
    client_code: str
    session_numbers: tuple[int, ...]
    flag_ids: tuple[int, ...]
    open_link_token: str
    used_link_token: str


def build_fuzz_world(database: Database) -> FuzzWorld:
    """One North team: a therapist with a rated client, its supervisor, an admin."""
    settings = get_settings()
    user_ids: dict[str, int] = {}
    with database.writing() as session:
        north = team_named(session=session, name="North")
        for role in ROLES[1:]:
            user_ids[role] = add_staff(
                session,
                email=f"{role}@clinic.test",
                display_name=role.title(),
                role=role,
                team=north,
                password_hash=PASSWORD_HASH,
            ).id
        client = add_client(session, therapist_id=user_ids["therapist"])
        tokens = []
        for number in range(1, 5):
            held = date(2026, 9, 1) + timedelta(weeks=number)
            therapy_session = add_therapy_session(
                session, client=client, number=number, held_on=held
            )
            tokens.append(issue_link(session, settings, therapy_session, "en").token)
        code = client.code
    # Three ratings, the last one a drop and a wish to talk: flags on the client's record.
    for token, score, talk in zip(tokens[:3], (9.5, 9.4, 5.0), (False, False, True), strict=True):
        submission = RatingSubmission(
            scores=dict.fromkeys(("relationship", "goals", "approach", "overall"), score),
            wants_to_talk=talk,
        )
        submit_rating(db=database, token=token, submission=submission, idempotency_key=None)
    with database.writing() as session:
        session.add(
            talk_flag(
                client_id=client.id,
                session_number=3,
                held_on=date(2026, 9, 22),
                rule="wants_to_talk_fuzz",
            )
        )
    with database.reading() as session:
        flag_ids = tuple(session.exec(select(Flag.id).where(Flag.client_id == client.id)))
    return FuzzWorld(
        user_ids=user_ids,
        client_code=code,
        session_numbers=(1, 2, 3, 4),
        flag_ids=flag_ids,
        open_link_token=tokens[3],
        used_link_token=tokens[0],
    )


def fresh_access_token(database: Database, user_id: int) -> str:
    """A live token for an active account, whatever earlier cases did to the last one."""
    with database.writing() as session:
        user = session.get(User, user_id)
        user.active = True  # an admin case may have deactivated the account
        session.add(user)
        return add_access_token(
            session,
            user_id=user_id,
            secret_key=get_settings().secret_key,
            lifetime=timedelta(hours=1),
        )


def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous = OFF")


@pytest.fixture(scope="module")
def fuzz_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'rapport-fuzz.db'}"
    database = Database(Settings(database_url=url, mode="dev"))
    # Thousands of small commits: skip the fsync of each (this file is thrown away).
    event.listen(database.engine, "connect", _no_fsync)
    migrate(database)
    limiter = app.state.public_rate_limiter
    usual_limit = limiter.limit
    limiter.limit = 1_000_000  # every case comes from one address; the limit has its own tests
    reset_database(database)
    yield database
    reset_database(None)
    limiter.limit = usual_limit
    limiter.reset()
    database.engine.dispose()


@pytest.fixture(scope="module")
def report_case_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many requests schemathesis sent per role (``-s`` not needed)."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CASES:
        return
    counts = ", ".join(f"{role} {CASES[role]}" for role in ROLES if role in CASES)
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"\ncontract fuzz, cases per role: {counts} ({EXAMPLES} examples)")


@dataclass
class Stage:
    """The world the running operation's cases see; the auth and path hooks read it."""

    database: Database | None = None
    world: FuzzWorld | None = None
    token: str | None = None

    def access_token(self, role: str) -> str:
        assert self.database is not None and self.world is not None
        if self.token is None:
            self.token = fresh_access_token(self.database, self.world.user_ids[role])
        return self.token


STAGE = Stage()


@pytest.fixture
def fuzz_world(fuzz_database: Database, report_case_counts: None) -> Iterator[FuzzWorld]:
    """Every operation starts from the same data, whatever the previous one changed."""
    empty_all_tables(fuzz_database)
    STAGE.database, STAGE.world = fuzz_database, build_fuzz_world(fuzz_database)
    yield STAGE.world
    STAGE.database = STAGE.world = STAGE.token = None


_CLIENT_CODE = re.compile(r"^[A-Za-z0-9-]{3,16}$")


def _is_valid(name: str, value: object) -> bool:
    """Whether a generated path value is one the schema allows (so swapping it keeps it so)."""
    if name == "client_id":
        return isinstance(value, str) and bool(_CLIENT_CODE.match(value))
    if name == "token":
        return isinstance(value, str) and len(value) <= 512
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000


def real_path_values(path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time, swap valid generated ids for ones that exist in the world."""
    world = STAGE.world
    if world is None or not path_parameters:
        return st.just(path_parameters)
    real = {
        "client_id": [world.client_code],
        "session_number": list(world.session_numbers),
        "flag_id": list(world.flag_ids),
        "token": [world.open_link_token, world.used_link_token],
        "user_id": list(world.user_ids.values()),
    }
    swappable = {
        name: st.sampled_from(real[name])
        for name, value in path_parameters.items()
        if name in real and _is_valid(name, value)
    }
    if not swappable:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.fixed_dictionaries(swappable).map(lambda chosen: {**path_parameters, **chosen}),
    )


#: Where a well-formed request can still be refused with a reason the schema cannot state,
#: because it depends on data: a used or expired link is 410 and takes only its own
#: instrument's items (422 otherwise); a new password must not be guessable or the
#: account's own words (422); an erasure's confirm_code must repeat the addressed
#: client's code (422); a session is dated neither after the clinic's today nor before the
#: client's latest session (422).
#: (A client's therapist_id that names no active therapist is 404 or 409, which every
#: operation may answer.)
DATA_DEPENDENT_REFUSALS: dict[str, list[str]] = {
    "GET /api/public/ratings/{token}": ["410"],
    "POST /api/public/ratings/{token}": ["410", "422"],
    "POST /api/users": ["422"],
    "POST /api/clients/{client_id}/erasure": ["422"],
    "POST /api/clients/{client_id}/sessions": ["422"],
    "POST /api/me/password": ["422"],
    "POST /api/auth/password-reset": ["422"],
}
#: positive_data_acceptance's own default, which the entries above extend (5xx is left to
#: not_a_server_error).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def fuzz_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": EXAMPLES, "deterministic": DETERMINISTIC},
            "operations": [
                {
                    "include-name": operation,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *extra]}
                    },
                }
                for operation, extra in DATA_DEPENDENT_REFUSALS.items()
            ],
        }
    )


def load_schema(role: str) -> Any:
    """The schema the app serves, fuzzed as ``role``, with real ids mixed into paths."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=fuzz_config())

    @schema.hook
    def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any]) -> Any:
        return real_path_values(path_parameters)

    if role != "anonymous":

        @schema.auth(refresh_interval=None)
        class SignedIn:
            """Marks the case as signed in; ``run_case`` puts in a live token just before the call.

            Schemathesis builds some cases while collecting, before any database exists.
            """

            def get(self, _case: Any, _context: Any) -> str:
                return SIGNED_IN

            def set(self, case: Any, token: str, _context: Any) -> None:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    return schema


CASES: Counter[str] = Counter()
#: Signing out revokes the caller's token; an admin may deactivate their own account or
#: issue themselves a reset code; a password change ends the caller's other sessions.
ENDS_SESSIONS = frozenset(
    {
        "POST /api/auth/logout",
        "PATCH /api/users/{user_id}",
        "POST /api/users/{user_id}/password-reset",
        "POST /api/me/password",
    }
)
SIGNED_IN = "signed-in-placeholder"
NO_FIXTURE_CHECK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def run_case(role: str, case: Any) -> None:
    CASES[role] += 1
    if case.headers and case.headers.get("Authorization") == f"Bearer {SIGNED_IN}":
        case.headers["Authorization"] = f"Bearer {STAGE.access_token(role)}"
    try:
        case.call_and_validate()
    finally:
        if case.operation.label in ENDS_SESSIONS:
            STAGE.token = None


anonymous = load_schema("anonymous")
therapist = load_schema("therapist")
supervisor = load_schema("supervisor")
admin = load_schema("admin")


@anonymous.parametrize()
@NO_FIXTURE_CHECK
def test_contract_holds_for_anonymous_callers(case: Any, fuzz_world: FuzzWorld) -> None:
    run_case("anonymous", case)


@therapist.parametrize()
@NO_FIXTURE_CHECK
def test_contract_holds_for_a_therapist(case: Any, fuzz_world: FuzzWorld) -> None:
    run_case("therapist", case)


@supervisor.parametrize()
@NO_FIXTURE_CHECK
def test_contract_holds_for_a_supervisor(case: Any, fuzz_world: FuzzWorld) -> None:
    run_case("supervisor", case)


@admin.parametrize()
@NO_FIXTURE_CHECK
def test_contract_holds_for_an_admin(case: Any, fuzz_world: FuzzWorld) -> None:
    run_case("admin", case)
