"""schemathesis against a live server on loopback with the demo district: every operation
of the generated schema, random and edge-case input, 0 server errors, every status code
documented, every body as the schema says. Bounded: a few examples per operation."""

import io

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from api.services import token_create
from schools.models import District

EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", allow_production=True, stdout=io.StringIO())
    return District.objects.get()


def test_every_operation_answers_as_its_schema_says(demo, live_server):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    # The district admin sees every school; tech staff write at two of them.
    for email in ("admin@", "tech@"):
        user = User.objects.get(email__startswith=email)
        _row, token = token_create(user=user, name="schemathesis", read_only=False)
        _run(operations, live_server.url, {"Authorization": f"Bearer {token}"})


def _run(operations, base_url, headers):
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(base_url=base_url, headers=headers)
            case.validate_response(response, checks=CHECKS)

        check()
