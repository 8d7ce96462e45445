"""Client generators (the ThousandEyes SDKs among them) name a method after each operationId: in both documents every
operation has its own, so no generated client gets `roles_retrieve_2`."""

import pytest


@pytest.mark.parametrize("document", ["/v6/openapi.json", "/v7/openapi.json"])
def test_every_operation_has_an_id_of_its_own(cast, document):
    paths = cast.owner.client.get(document).json()["paths"]
    ids = [op["operationId"] for item in paths.values() for method, op in item.items() if method in _METHODS]
    assert len(ids) > 30
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert repeated == []
    # drf-spectacular resolves a collision by a numeral suffix: none may be left.
    assert [i for i in ids if i[-1].isdigit()] == []


_METHODS = {"get", "post", "put", "patch", "delete"}
