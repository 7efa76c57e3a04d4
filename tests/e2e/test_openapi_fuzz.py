"""Property-based API tests: the started gateway against its own OpenAPI document.

schemathesis reads ``/openapi.json`` from the running gateway and, for every
operation, sends the document's own examples (the request bodies and parameters
of the manual's journey), the coverage phase's deterministic boundary cases
(missing and wrong-typed fields, odd strings, huge numbers, ...) plus a bounded
number of generated requests signed in as the carrier; then the examples and
generated requests signed in as an officer (the 河北 acceptance officer).
Every response must hold to the document:

- no server error: no 5xx other than 501 (an RPC not implemented yet) and 503
  (a peer or the storage down);
- the status code is one the operation declares;
- the content type is one declared for that status;
- the body matches the schema declared for that status (proto3 JSON: int64
  as decimal strings, enums by name, ...);
- declared response headers are present and valid.

Generation is derandomized (fixed seed, no example database), so a CI run
sends the same requests every time. Identifiers of resources that exist
(a draft of the carrier, its document and vehicles, a submitted case) are
mixed into the path parameters so that requests reach past "not found" into
the services' real answers; those resources are this test's own, with
travel dates far from those of the other end-to-end tests, but for the
vehicles, which are the demo fleet's: only reads name them, an operation that
changes or retires a vehicle gets made-up identifiers (the later tests drive
that fleet). The examples touch
nothing another test holds either: their travel dates lie
examples_zh.EXAMPLE_START_IN_DAYS days after the day the gateway built the
document (beyond every other test's travel period, AP-6), and their
identifiers are made up (application numbers dated before the stack started),
so an example reaches one of this test's resources or none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from permit_gateway import docs_zh
from tests.e2e import journey as j

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# Generated requests per operation on top of the coverage phase's cases; with
# both passes this keeps the file well under 90 s on two cores.
MAX_EXAMPLES = 8
SEED = 20261201
# Path parameters whose known resources other tests use too (the demo fleet's vehicles).
SHARED_IDS = {"vehicle_id"}

# Operations not fuzzed, each with the reason. Nothing else is left out.
EXCLUDED_OPERATIONS = {
    # An empty body signs out *every* session of the caller (ID-1): it would
    # revoke the demo personas' sessions that the other end-to-end tests of
    # this stack hold, and this test's own token in the middle of the run.
    "SignOut": "revokes every session of the shared demo persona",
}


def _foreign_operations(audience: str) -> list[str]:
    """Operations whose examples a pass does not send: those its caller may not call
    (the other pass sends them, with the token they are written for)."""
    own = {audience, docs_zh.PUBLIC} if audience == docs_zh.APPLICANT else {audience}
    return sorted(op for op, d in docs_zh.OPERATIONS.items() if not own & set(d.audience))


def _config(*, coverage: bool, audience: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES, "mode": "all"},
        # Stateful testing follows links the document does not declare.
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": coverage},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        # 501: an RPC still answering UNIMPLEMENTED (tests/e2e/unimplemented.txt);
        # 503: a peer or the S3 storage unavailable. Every other 5xx is a bug.
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501", "503"]}},
        "request-timeout": 30,
        "operations": [{"include-operation-id": _foreign_operations(audience),
                        "phases": {"examples": {"enabled": False}}}],
    })


def _load(stack, known_ids: dict[str, list[str]], *, coverage: bool, audience: str) -> schemathesis.BaseSchema:
    config = _config(coverage=coverage, audience=audience)
    schema = schemathesis.openapi.from_url(f"{stack.gateway_url}/openapi.json", config=config)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy:
        if not path_parameters:
            return st.just(path_parameters)
        operation = getattr(context, "operation", None)
        # The vehicles are the shared demo fleet's, which the later tests of this stack
        # drive: only reads name them; a change or a retirement gets made-up ids.
        reads = str(getattr(operation, "method", "")).upper() == "GET"
        # Half of the time a path parameter names a resource that exists.
        return st.fixed_dictionaries({
            name: (st.sampled_from([value, *known_ids[name]])
                   if known_ids.get(name) and (reads or name not in SHARED_IDS) else st.just(value))
            for name, value in path_parameters.items()
        })

    return schema


@pytest.fixture(scope="module")
def fuzz_world(stack, api_as) -> dict[str, Any]:
    """The test's own resources: a draft with a document, and a submitted case."""
    carrier = api_as("carrier")
    draft = j.fill_draft(carrier, start_in_days=60)
    submitted = j.fill_draft(carrier, start_in_days=75)
    j.submit(carrier, submitted)
    case = j.case_of(api_as("hebei-accept"), submitted["name"])
    vehicles = [v["fleetVehicle"] for v in carrier.get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"]]

    def ids(*names: str) -> list[str]:
        return [n.split("/")[-1] for n in names]

    return {
        "application_id": ids(draft["name"], submitted["name"]),
        "document_id": ids(draft["_document"]["name"]),
        "vehicle_id": ids(*vehicles[:2]),
        "case_id": ids(case["name"]),
        "review_id": [j.ORIGIN, j.VIA],
    }


def _fresh_token(stack, persona: str) -> str:
    # A session of its own, so nothing the fuzzer does to its session touches
    # the ones other tests hold.
    return str(stack.sign_in(persona)["accessToken"])


@pytest.fixture(scope="module")
def carrier_schema(stack, fuzz_world):
    return _load(stack, fuzz_world, coverage=True, audience=docs_zh.APPLICANT)


@pytest.fixture(scope="module")
def officer_schema(stack, fuzz_world):
    # The coverage phase's boundary cases (wrong types, huge numbers, odd
    # strings in every field) are the same requests whoever sends them and
    # exercise the gateway's parsing, which does not depend on the caller: the
    # carrier pass sends them. The officer pass sends the examples of the
    # officers' operations and generated requests, which keeps the file within
    # its time budget.
    return _load(stack, fuzz_world, coverage=False, audience=docs_zh.OFFICER)


@pytest.fixture(scope="module")
def carrier_token(stack) -> str:
    return _fresh_token(stack, "carrier")


@pytest.fixture(scope="module")
def officer_token(stack) -> str:
    return _fresh_token(stack, "hebei-accept")


FUZZ_SETTINGS: Callable[[Callable[..., Any]], Callable[..., Any]] = settings(
    max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))

carrier_api = schemathesis.pytest.from_fixture("carrier_schema").exclude(operation_id=list(EXCLUDED_OPERATIONS))
officer_api = schemathesis.pytest.from_fixture("officer_schema").exclude(operation_id=list(EXCLUDED_OPERATIONS))


@carrier_api.parametrize()
@FUZZ_SETTINGS
def test_gateway_answers_the_carrier_as_its_openapi_document_says(case, carrier_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {carrier_token}"}, checks=CHECKS)


@officer_api.parametrize()
@FUZZ_SETTINGS
def test_gateway_answers_an_officer_as_its_openapi_document_says(case, officer_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {officer_token}"}, checks=CHECKS)
