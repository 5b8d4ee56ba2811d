"""Every operation of the OpenAPI document called with data schemathesis generates from it, as the administrator and
as an enterprise account, on the WSGI app: no 5xx, and every answer is in the document (status code, content
type, body schema). Examples are few and the run has a time budget, so the test stays within a few minutes."""
from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.conftest import ADMIN_PASSWORD
from tests.security import factory

from .conftest import ApiClient
from .test_rest import _hazard

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {"GET": 2, "DELETE": 1}  # reads and deletes vary little; writes get more
WRITE_EXAMPLES = 4
BUDGET_SECONDS = 45  # per account; every operation still runs at least one example


def _fuzz(db_app, username: str, password: str) -> dict[str, int]:
    """Run every operation; returns the status codes seen (raises on the first failed check)."""
    auth = ApiClient(db_app, username, password).headers
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", db_app, headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    started, seen = time.monotonic(), {}
    for index, operation in enumerate(operations):
        late = time.monotonic() - started > BUDGET_SECONDS * index / len(operations)
        examples = 1 if late else EXAMPLES.get(operation.method.upper(), WRITE_EXAMPLES)

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case) -> None:
            response = case.call_and_validate(headers=auth, checks=CHECKS)
            seen[str(response.status_code)] = seen.get(str(response.status_code), 0) + 1

        call()
    return seen


def _valid_post(db_app, username: str, password: str, register: str, body: dict) -> int:
    """One row the form accepts, sent through the document's own operation: the 201 and its body conform too
    (generated bodies alone seldom pass every form rule: a reference must exist, a code must be valid)."""
    auth = ApiClient(db_app, username, password).headers
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", db_app, headers=auth)
    operation = next(result.ok() for result in schema.get_all_operations()
                     if result.ok().method.upper() == "POST" and result.ok().path.rstrip("/").endswith(f"/{register}"))
    response = operation.Case(body=body, media_type="application/json").call_and_validate(headers=auth, checks=CHECKS)
    return response.status_code


def test_the_api_answers_as_its_document_says_for_the_administrator(db_app, county):
    seen = _fuzz(db_app, "admin", ADMIN_PASSWORD)
    assert {"200", "422"} <= set(seen), seen  # rows read and refused: the fuzz reached the forms
    assert _valid_post(db_app, "admin", ADMIN_PASSWORD, "hazard", _hazard(county["enterprise_id"])) == 201


def test_the_api_answers_as_its_document_says_for_an_enterprise(db_app, county):
    seen = _fuzz(db_app, county["enterprise"], factory.PASSWORD)
    assert {"200", "403"} <= set(seen), seen
