"""Property-based fuzzing of the whole API from its own OpenAPI spec: no input yields a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.api.conftest import Api


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)
def test_no_input_makes_a_server_error(api: Api) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    headers = {"Authorization": f"Bearer {api.admin}"}
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would raise: the spec is ours
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        fuzz()
    assert "POST /events" in labels
    assert len(labels) >= 14
