"""Fuzzing the REST API from its served OpenAPI with schemathesis (bounded: a few examples per operation).

The real app over a real migrated SQLite, signed in as an admin with a real token, so generated requests
reach the handlers. Each operation gets valid and invalid examples; any 5xx, a status code the document
does not list for the operation (clients are generated from it), or a successful answer that breaks the
documented schema, is collected and reported with the request that caused it.
"""

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.web.conftest import Runtime
from web import create_app
from web.context import WebContext

EXAMPLES_PER_OPERATION = 16


def _prober(
    operation: schemathesis.APIOperation,  # type: ignore[type-arg]
    mode: GenerationMode,
    headers: dict[str, str],
    failures: list[str],
) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION // 2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def probe(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        response = case.call(headers=headers)
        where = f"{case.method} {case.formatted_path}"
        documented = set(case.operation.definition.raw.get("responses", {}))
        if str(response.status_code) not in documented and "default" not in documented:
            failures.append(
                f"{where} → {response.status_code}, not among the documented {sorted(documented)}"
            )
        # The test app runs no streaming server: live sessions answer 503 `live_unavailable` on purpose.
        switched_off = response.status_code == 503 and '"live_unavailable"' in response.text
        if response.status_code >= 500 and not switched_off:
            failures.append(f"{where} → {response.status_code}: {case.body!r:.200} {response.text[:200]}")
        elif mode is GenerationMode.POSITIVE and response.status_code < 400:
            try:
                case.operation.validate_response(response)
            except AssertionError as exc:
                failures.append(f"{where}: {exc!s:.300}")

    return probe


@pytest.mark.timeout(90)
def test_api_never_fails_on_generated_requests(context: WebContext, runtime: Runtime) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(context))
    headers = runtime.auth("admin")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15, "the served OpenAPI lost operations"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _prober(operation, mode, headers, failures)()
            except Unsatisfiable:
                # Nothing to break in an operation without parameters or body (e.g. GET /health).
                assert mode is GenerationMode.NEGATIVE, f"no valid request for {operation.label}"
    assert not failures, "\n".join(dict.fromkeys(failures))
