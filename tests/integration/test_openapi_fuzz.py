"""The standing schemathesis suite (issue 9): every operation of `/openapi.json`, generated from
the document itself (its examples, the coverage of each constraint's edges, then fuzzing with
valid and invalid data), sent to a real `serve` on PostgreSQL as an admin and as an analyst.
Each response must pass schemathesis' checks: no server error, every status documented, bodies,
content types and headers as documented, invalid data refused, a 405 with a complete `Allow`,
authentication not ignored. Bounded (`MAX_EXAMPLES` per operation) and derandomized, so a run
is the same run every time.

`positive_data_acceptance` is the one check left out: it expects every schema-valid request to
succeed, and some are refused by rules a JSON schema cannot state (opaque cursors, a name needs
one of three fields, `allow` and `deny` disjoint, a notice reference unique): those answer a
documented 400, 409 or 422, which the other checks verify.

The server runs in a thread with its own event loop (the generated tests are synchronous)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from failsafe.app import create_app
from failsafe.db import migrate
from failsafe.settings import AuthSettings, Settings
from tests.conftest import create_database, drop_database, unique_name
from tests.fixtures.app import make_token, running_app, settings_for
from tests.fixtures.factories import emit, make_entry, make_hit

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 8  # fuzzed per operation, after its examples and coverage cases
ROLES = ("admin", "analyst")
T = TypeVar("T")

load_all_checks()
# Every check but positive_data_acceptance (see the module docstring).
CHECK_FUNCTIONS = [c for c in CHECKS.get_all() if c.__name__ != "positive_data_acceptance"]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    # The import body is documented as a string (NDJSON text); anything else as one JSON line.
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return orjson.dumps(value) + b"\n"


@dataclass
class Served:
    base: str
    tokens: dict[str, str]
    principal_ids: set[str]
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class _LoopThread:
    """An event loop in a thread: the app and its database live there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def served(pg_server: str) -> Iterator[Served]:
    worker = _LoopThread()
    name = unique_name("failsafe_fuzz")
    try:
        url = worker.run(create_database(pg_server, name))
        migrate.upgrade(url)
        # Schemathesis sends requests without and with bad tokens on purpose: the failure
        # limiter must not turn the valid tokens' requests into 429s meanwhile.
        app_settings = settings_for(url).model_copy(
            update={"auth": AuthSettings(max_failures_per_minute=1_000_000)}
        )
        context = running_app(app_settings)
        running = worker.run(context.__aenter__())
        try:
            tokens = {
                "admin": worker.run(make_token(running.sessions, "admin", None)),
                "analyst": worker.run(make_token(running.sessions, "analyst", "FRA")),
            }
            # Something to find: entries of two bureaus, alerts on them.
            for owner in ("FRA", "DEU"):
                entry = worker.run(make_entry(running.sessions, owner=owner))
                hits = [make_hit(entry, country=c) for c in ("DEU", "FRA", "ITA")]
                worker.run(emit(running.sessions, running.bus, hits))
            with httpx2.Client(base_url=running.http, timeout=10) as http:
                ids = {
                    http.get("/v1/principals/me", headers=_auth(t)).json()["id"]
                    for t in tokens.values()
                }
            served = Served(base=running.http, tokens=tokens, principal_ids=ids)
            yield served
            print(  # the suite's figures, for the record (pytest -s shows them)
                f"\nschemathesis: {served.cases} cases, "
                f"statuses {dict(sorted(served.statuses.items()))}"
            )
        finally:
            worker.run(context.__aexit__(None, None, None))
    finally:
        worker.run(drop_database(pg_server, name))
        worker.close()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# The document the server serves at /openapi.json, built without starting anything (the routes
# make it); every call then goes to the real server (`base_url`). (Loading it from the running
# server through `schemathesis.pytest.from_fixture` fails on pytest 9.2: it sets a private
# attribute of pytest's nodes that no longer exists.)
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())


def _keep_own_principals(served: Served) -> Callable[[Any], None]:
    def fix(case: Any) -> None:
        # Revoking the suite's own tokens would end the run (the ids appear in responses and
        # schemathesis reuses what it sees): revoke an unknown principal instead (a 404).
        own = (case.path_parameters or {}).get("principal_id") in served.principal_ids
        if own and case.method.upper() == "POST":
            case.path_parameters["principal_id"] = "p_0000000000000000"

    return fix


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_openapi_document(case: Any, served: Served) -> None:
    _keep_own_principals(served)(case)
    # The roles take turns (the cases come in the same order every run): both see every
    # operation, in half the time of sending each case twice.
    role = ROLES[served.cases % len(ROLES)]
    served.cases += 1
    checks = CHECK_FUNCTIONS
    if case.operation.path == "/v1/watchlist/import":
        # Any bytes are an NDJSON text (the body's schema is a string): a "schema-violating"
        # body cannot exist on the wire, only lines that are rejected one by one in the report.
        checks = [c for c in checks if c.__name__ != "negative_data_rejection"]
    response = case.call_and_validate(
        base_url=served.base, headers=_auth(served.tokens[role]), checks=checks, timeout=30
    )
    served.statuses[response.status_code] = served.statuses.get(response.status_code, 0) + 1
