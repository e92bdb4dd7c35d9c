"""The auth service's unauthenticated writes are throttled at the API stage (each costs an Argon2 hash)."""

from __future__ import annotations

from typing import Any

from tests.deploy.conftest import Packaged
from tests.support import services


def _encoded(path: str) -> str:
    # API Gateway's method-setting paths: "/" then the path with each "/" written "~1".
    return "/" + path.replace("/", "~1")


def _settings(packaged: Packaged) -> dict[tuple[str, str], dict[str, Any]]:
    methods = packaged.resources["RestAPI"]["Properties"].get("MethodSettings", [])
    return {(setting["ResourcePath"], setting["HttpMethod"]): setting for setting in methods}


def test_every_public_post_of_the_auth_service_is_throttled(packaged: dict[str, Packaged]) -> None:
    settings = _settings(packaged["auth"])
    public_posts = [
        path
        for path, methods in services.load("auth").app.routes.items()
        if "POST" in methods and methods["POST"].authorizer is None
    ]

    assert public_posts
    for path in public_posts:
        setting = settings[(_encoded(path), "POST")]
        assert 0 < setting["ThrottlingRateLimit"] <= setting["ThrottlingBurstLimit"]


def test_each_throttle_names_a_route_the_api_has(packaged: dict[str, Packaged]) -> None:
    swagger_paths = packaged["auth"].resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    routes = {(_encoded(path), method.upper()) for path, methods in swagger_paths.items() for method in methods}

    assert set(_settings(packaged["auth"])) <= routes
