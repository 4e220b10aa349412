"""Property-based API testing from the OpenAPI document: no client input yields a 5xx.

Schemathesis generates requests for every operation of the supplier API (valid and invalid:
positive and negative generation modes), sends them with a live supplier key and checks that
no answer is a server error. Runs on both backends. (Driven through
``operation.as_strategy()`` rather than the pytest plugin, whose fixture loader does not
work with pytest 9.2.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from storefront_sdk.testing.factories import product_payload

#: Generated requests per operation, mode and backend: 21 operations x 2 modes x 2 backends.
EXAMPLES_PER_OPERATION = 15


def test_no_client_input_yields_a_server_error(app, supplier):
    # Given some products, so generated ids and SKUs sometimes hit real rows
    supplier.put("/products", json={"products": [product_payload(f"P{n}") for n in range(3)]})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {supplier.api_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # catalogue (5), orders (6), webhook settings and deliveries (4), shipping (2),
    # promotions (4)
    assert len(operations) == 21

    for operation, mode in [(op, m) for op in operations for m in GenerationMode]:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            # When schemathesis sends a generated request, then it is not answered with a 5xx
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
