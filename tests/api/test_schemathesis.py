"""Property-based check of the whole API against its own OpenAPI schema (Schemathesis, in-process)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from policyhub.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Loaded at collection, from the schema endpoint itself (it reads no data); pytest 9 breaks
# schemathesis.pytest.from_fixture.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 3,
        "generation": {"mode": "positive", "database": "none"},
        "phases": {"coverage": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def in_process_requests():
    """Each WSGI request would otherwise close the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_key, dataset, in_process_requests):
    """Generated requests never cause a server error or a response the schema does not describe."""
    case.call_and_validate(headers={"Authorization": f"Token {api_key}"}, checks=CHECKS)
