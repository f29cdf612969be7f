"""``graviton verify`` of an ECR image with --endpoint-url, against a moto server process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.cluster import client, push_image
from tests.support.moto_server import FAKE_CREDENTIALS, moto_server

pytestmark = pytest.mark.moto

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def ecr_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _push_index(url: str, repo: str, tag: str, platforms: list[str]) -> None:
    """One child per platform plus an attestation manifest, as buildx pushes it."""
    push_image(client("ecr", url, REGION), repo, tag, platforms=platforms)


def _verify(url: str, image: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "graviton.cli",
            "verify",
            image,
            "--endpoint-url",
            url,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_ecr_index_with_both_platforms(ecr_url: str) -> None:
    _push_index(ecr_url, "api", "1", ["linux/amd64", "linux/arm64"])
    result = _verify(ecr_url, f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/api:1")
    assert result.returncode == 0, result.stdout + result.stderr
    image = json.loads(result.stdout)["images"][0]
    assert set(image["platforms"]) == {"linux/amd64", "linux/arm64"}


def test_ecr_amd64_only_fails(ecr_url: str) -> None:
    _push_index(ecr_url, "worker", "1", ["linux/amd64"])
    result = _verify(ecr_url, f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/worker:1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert json.loads(result.stdout)["images"][0]["missing"] == ["linux/arm64"]


@pytest.mark.parametrize("command", ["verify", "gate"])
def test_an_ecr_image_in_another_region_is_read_in_its_own_region(
    ecr_url: str, tmp_path: object, command: str
) -> None:
    """The service (and --region) is in us-east-1, the image's registry in eu-west-1: the image
    is read in eu-west-1, the region its host names (moto keeps one ECR per region)."""
    other = "eu-west-1"
    push_image(client("ecr", ecr_url, other), "far", command, ["linux/amd64", "linux/arm64"])
    image = f"{ACCOUNT}.dkr.ecr.{other}.amazonaws.com/far:{command}"
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "NO_COLOR": "1"}
    args = [image] if command == "verify" else ["--image", image, "--no-dockerfiles"]
    aws = ["--region", REGION, "--endpoint-url", ecr_url, "--format", "json"]
    result = subprocess.run(
        [sys.executable, "-m", "graviton.cli", command, *args, *aws],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    if command == "verify":
        assert set(doc["images"][0]["platforms"]) == {"linux/amd64", "linux/arm64"}
    else:
        assert doc["images"][0]["ok"] is True
