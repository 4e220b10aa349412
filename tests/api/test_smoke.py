from storefront_sdk.testing.factories import product_payload


def test_created_then_unchanged(supplier):
    body = {"products": [product_payload("TEE-001")]}
    first = supplier.put("/products", json=body)
    second = supplier.put("/products", json=body)
    assert first.json == {"created": 1, "updated": 0, "unchanged": 0}
    assert second.json == {"created": 0, "updated": 0, "unchanged": 1}
