"""The OpenAPI document describes every admin function, and nothing else."""

from __future__ import annotations

from shared.services.catalog import load_openapi
from tests.kit.app import desk_host


def registered_admin_operations() -> set[tuple[str, str]]:
    host = desk_host()
    return {
        (f"/{function.route}", method.lower())
        for function in host.http
        if function.route.startswith("api/admin")
        for method in function.methods
    }


def documented_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, item in load_openapi()["paths"].items() for method in item}


def test_every_registered_admin_function_is_documented_and_nothing_else() -> None:
    assert registered_admin_operations() == documented_operations()


def test_every_operation_names_the_function_key_and_the_error_shape() -> None:
    document = load_openapi()
    assert document["openapi"].startswith("3.1")
    assert set(document["components"]["securitySchemes"]) == {"functionKey", "functionKeyQuery"}
    for item in document["paths"].values():
        for operation in item.values():
            assert "401" in operation["responses"]
            errors = [code for code in operation["responses"] if code[0] in "45" and code != "401"]
            assert errors
            for code in errors:
                assert operation["responses"][code] == {"$ref": "#/components/responses/Error"}
