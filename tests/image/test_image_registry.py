"""The OCI distribution client against a real HTTP server on 127.0.0.1 that demands a token."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from graviton.errors import ServiceUnavailable
from graviton.image.inspect import check_image
from graviton.oci.reference import ImageRef
from graviton.oci.registry import (
    NotFound,
    RegistryReader,
    docker_credentials,
    parse_www_authenticate,
)
from tests.image.registry_server import TOKEN, RegistryServer


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        yield server


def _multiarch(server: RegistryServer, repo: str, tag: str, arm_config: str = "arm64") -> str:
    amd = server.add_image(repo, "linux", "amd64")
    arm = server.add_image(repo, "linux", "arm64", config_arch=arm_config)
    att = server.add_image(repo, "unknown", "unknown")
    return server.add_index(
        repo,
        tag,
        [
            {"digest": amd, "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": arm, "platform": {"os": "linux", "architecture": "arm64"}},
            {
                "digest": att,
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": amd,
                },
            },
        ],
    )


def test_bearer_token_flow_then_index_and_children(registry: RegistryServer) -> None:
    index = _multiarch(registry, "team/app", "1")
    check = check_image(f"{registry.host}/team/app:1")
    assert check.ok and check.digest == index
    assert [p.platform for p in check.platforms] == ["linux/amd64", "linux/arm64"]
    assert check.attestations == 1
    # the token was asked for with the challenge's service and scope, once per repository
    assert len(registry.token_requests) == 1
    query = registry.token_requests[0]["query"]
    assert query == {"scope": ["repository:team/app:pull"], "service": ["test-registry"]}
    assert registry.unauthorized == 1


def test_child_whose_config_says_another_architecture_fails(registry: RegistryServer) -> None:
    _multiarch(registry, "app", "lying", arm_config="amd64")
    check = check_image(f"{registry.host}/app:lying")
    assert not check.ok and check.missing == ()
    assert "linux/arm64 child" in check.mismatches[0] and "linux/amd64" in check.mismatches[0]


def test_single_manifest_platform_comes_from_its_config(registry: RegistryServer) -> None:
    digest = registry.add_image("solo", "linux", "amd64")
    registry.manifests[("solo", "1")] = registry.manifests[("solo", digest)]
    check = check_image(f"{registry.host}/solo:1")
    assert not check.is_index
    assert [p.platform for p in check.platforms] == ["linux/amd64"]
    assert check.missing == ("linux/arm64",)
    assert "single-platform manifest (not an index) lacks linux/arm64" in check.summary()


def test_docker_config_credentials_reach_the_token_service(tmp_path: Path) -> None:
    with RegistryServer(user="ci", password="pw") as server:
        _multiarch(server, "private/app", "1")
        config = tmp_path / "config.json"
        auth = base64.b64encode(b"ci:pw").decode()
        config.write_text(json.dumps({"auths": {server.host: {"auth": auth}}}))
        reader = RegistryReader(docker_config=config)
        manifest = reader.get_manifest(ImageRef.parse(f"{server.host}/private/app:1"))
        assert manifest.body["manifests"]
        assert server.token_requests[0]["authorization"] == f"Basic {auth}"
        # without credentials the token service refuses: exit 3 with the login hint
        empty = tmp_path / "empty.json"
        empty.write_text("{}")
        with pytest.raises(ServiceUnavailable, match=f"docker login {server.host}"):
            RegistryReader(docker_config=empty).get_manifest(
                ImageRef.parse(f"{server.host}/private/app:1")
            )


def test_missing_image_is_a_verification_failure(registry: RegistryServer) -> None:
    with pytest.raises(NotFound) as info:
        check_image(f"{registry.host}/nothing:here")
    assert info.value.exit_code == 1 and "not found" in str(info.value)


def test_unreachable_registry_is_exit_3() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServiceUnavailable) as info:
        check_image(f"127.0.0.1:{port}/app:1")
    assert info.value.exit_code == 3 and "unreachable" in str(info.value)


def test_token_is_reused(registry: RegistryServer) -> None:
    _multiarch(registry, "app", "1")
    reader = RegistryReader()
    check_image(f"{registry.host}/app:1", reader=reader)
    check_image(f"{registry.host}/app:1", reader=reader)
    assert len(registry.token_requests) == 1
    assert TOKEN


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/python:pull"',
            [
                (
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/python:pull",
                    },
                )
            ],
        ),
        ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})]),
        (
            # two challenges; a quoted comma and an escaped quote inside values
            'Basic realm="a,b", Bearer realm="https://x/token",scope="repository:a:pull,push",'
            'error="insufficient_scope",error_description="say \\"hi\\""',
            [
                ("basic", {"realm": "a,b"}),
                (
                    "bearer",
                    {
                        "realm": "https://x/token",
                        "scope": "repository:a:pull,push",
                        "error": "insufficient_scope",
                        "error_description": 'say "hi"',
                    },
                ),
            ],
        ),
        (
            "Bearer realm=https://x/token,service=reg",
            [("bearer", {"realm": "https://x/token", "service": "reg"})],
        ),
        ("", []),
    ],
)
def test_parse_www_authenticate(header: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    got = [(c.scheme, dict(c.params)) for c in parse_www_authenticate(header)]
    assert got == expected


def test_docker_credentials_from_auths_and_hub_key(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:1").decode()},
                    "https://ghcr.io": {"auth": base64.b64encode(b"gh:2").decode()},
                }
            }
        )
    )
    assert docker_credentials("docker.io", config) == ("hub", "1")
    assert docker_credentials("ghcr.io", config) == ("gh", "2")
    assert docker_credentials("quay.io", config) is None
