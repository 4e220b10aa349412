"""The OpenAPI document, and routing errors inside and outside the API prefix."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import assert_json_error

PRODUCTS = "/api/v1/supplier/products"
PRODUCT = "/api/v1/supplier/products/{external_id}"
STOCK = "/api/v1/supplier/stock"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _openapi(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    document: dict[str, Any] = response.json
    return document


def test_openapi_document_is_public_and_3_1(client):
    # Given no credentials
    # When the OpenAPI document is requested
    response = client.get("/api/v1/openapi.json")

    # Then it is served as OpenAPI 3.1 JSON
    assert response.status_code == 200
    assert response.is_json
    assert response.json["openapi"].startswith("3.1")


def test_openapi_lists_the_catalogue_endpoints(client):
    # Given the OpenAPI document
    paths = _openapi(client)["paths"]

    # When its paths are inspected
    # Then every catalogue endpoint is documented with its methods
    assert {"get", "put"} <= set(paths[PRODUCTS])
    assert {"get", "delete"} <= set(paths[PRODUCT])
    assert "patch" in paths[STOCK]


def test_openapi_upsert_body_refers_to_products_body(client):
    # Given the OpenAPI document
    document = _openapi(client)

    # When the PUT /products request body is inspected
    body = document["paths"][PRODUCTS]["put"]["requestBody"]

    # Then it refers to ProductsBody, which is defined with its products array
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductsBody"
    }
    products_body = document["components"]["schemas"]["ProductsBody"]
    assert products_body["properties"]["products"]["type"] == "array"
    assert products_body["properties"]["products"]["maxItems"] == 1000


def test_openapi_stock_body_refers_to_stock_body(client):
    # Given the OpenAPI document
    document = _openapi(client)

    # When the PATCH /stock request body is inspected
    body = document["paths"][STOCK]["patch"]["requestBody"]

    # Then it refers to StockBody, which is defined
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StockBody"
    }
    assert "StockBody" in document["components"]["schemas"]


def test_openapi_references_all_resolve(client):
    # Given the OpenAPI document
    document = _openapi(client)

    # When every $ref in it is collected
    refs = set(_refs(document))

    # Then each points at a defined component
    assert refs
    for ref in refs:
        section, name = ref.removeprefix("#/components/").split("/", 1)
        assert name in document["components"][section], ref


def test_openapi_documents_bearer_auth_on_catalogue_operations(client):
    # Given the OpenAPI document
    document = _openapi(client)

    # When the security scheme and the operations are inspected
    scheme = document["components"]["securitySchemes"]["supplierKey"]

    # Then a bearer scheme is declared and every catalogue operation requires it
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = [
        document["paths"][PRODUCTS]["get"],
        document["paths"][PRODUCTS]["put"],
        document["paths"][PRODUCT]["get"],
        document["paths"][PRODUCT]["delete"],
        document["paths"][STOCK]["patch"],
    ]
    assert all(op["security"] == [{"supplierKey": []}] for op in operations)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/supplier/nope", "/api/v1/nope", "/api/v1", "/api/v1/supplier/products/a/b"],
)
def test_unknown_api_path_is_a_json_404(supplier, path):
    # Given a path under the API prefix that does not exist
    # When it is requested (with a valid key)
    response = supplier.client.get(path, headers={"Authorization": f"Bearer {supplier.api_key}"})

    # Then the answer is the API's JSON 404
    assert_json_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", PRODUCTS, {"GET", "PUT"}),
        ("patch", PRODUCTS, {"GET", "PUT"}),
        ("put", "/api/v1/supplier/products/P0", {"GET", "DELETE"}),
        ("get", STOCK, {"PATCH"}),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(supplier, method, path, allowed):
    # Given an API path that exists
    headers = {"Authorization": f"Bearer {supplier.api_key}"}

    # When it is called with a method it does not support
    response = getattr(supplier.client, method)(path, headers=headers, json={})

    # Then the answer is a JSON 405 whose Allow header lists the supported methods
    assert_json_error(response, 405)
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed
    assert method.upper() not in listed


def test_non_api_404_is_left_to_the_host_app(client):
    # Given a path outside the API prefix
    # When it is requested
    response = client.get("/nope")

    # Then it is the host app's (HTML) 404, not the API's JSON error
    assert response.status_code == 404
    assert not response.is_json
    assert response.mimetype == "text/html"


def test_path_merely_starting_like_the_prefix_is_not_api(client):
    # Given a path that only shares the prefix's characters
    # When it is requested
    response = client.get("/api/v1nope")

    # Then it is the host app's (HTML) 404
    assert response.status_code == 404
    assert not response.is_json
