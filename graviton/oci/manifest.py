"""Manifests as registries serve them: the media types, an index's children (attestation
manifests flagged, never counted as platforms), platform names and image config blobs.
Pure parsing; the readers that fetch them are :mod:`graviton.oci.registry` and
:mod:`graviton.oci.ecr`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graviton.oci.reference import ImageRef

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = (*INDEX_TYPES, *MANIFEST_TYPES)

ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


@dataclass(frozen=True)
class OciManifest:
    """A manifest as the registry returned it."""

    media_type: str
    body: Mapping[str, Any]
    digest: str | None = None


class ManifestReader(Protocol):
    """Reads a manifest (index or single) by tag or digest."""

    def get_manifest(self, ref: ImageRef) -> OciManifest: ...


@runtime_checkable
class BlobReader(Protocol):
    """A reader that can also fetch blobs (the OCI distribution API one can; ECR's API cannot)."""

    def get_manifest(self, ref: ImageRef) -> OciManifest: ...

    def get_blob(self, ref: ImageRef, digest: str) -> bytes: ...


@dataclass(frozen=True)
class PlatformEntry:
    """One child of an image index."""

    platform: str  # "linux/arm64", "linux/arm/v7", "unknown/unknown"
    digest: str
    attestation: bool


def is_index(manifest: OciManifest) -> bool:
    return manifest.media_type in INDEX_TYPES or "manifests" in manifest.body


def platforms_in(manifest: OciManifest) -> list[PlatformEntry]:
    """Children of an index; attestation manifests are flagged, never counted as platforms."""
    if not is_index(manifest):
        return []
    out = []
    for child in manifest.body.get("manifests") or []:
        plat = child.get("platform") or {}
        name = f"{plat.get('os', 'unknown')}/{plat.get('architecture', 'unknown')}"
        if plat.get("variant"):
            name += f"/{plat['variant']}"
        annotations = child.get("annotations") or {}
        attestation = ATTESTATION_ANNOTATION in annotations or name == "unknown/unknown"
        out.append(
            PlatformEntry(platform=name, digest=str(child.get("digest")), attestation=attestation)
        )
    return out


def normalise_platform(platform: str) -> str:
    """linux/arm64/v8 is linux/arm64 for our purpose; aarch64/x86_64 aliases are accepted."""
    parts = platform.lower().split("/")
    aliases = {"aarch64": "arm64", "x86_64": "amd64", "x86-64": "amd64"}
    if len(parts) >= 2:
        parts[1] = aliases.get(parts[1], parts[1])
    if parts[:2] == ["linux", "arm64"]:
        parts = parts[:2]
    return "/".join(parts)


def config_platform(config: Mapping[str, Any]) -> str | None:
    """Pure: "os/architecture[/variant]" from an image config blob, None if it says nothing."""
    if not config.get("architecture"):
        return None
    name = f"{config.get('os') or 'unknown'}/{config['architecture']}"
    return f"{name}/{config['variant']}" if config.get("variant") else name


@dataclass(frozen=True)
class ImageFacts:
    """An image as its registry serves it (gathered by :mod:`graviton.oci.fetch`), for
    ``graviton.checks.image.judge_image``."""

    ref: str  # as the user wrote it
    manifest: OciManifest
    configs_read: bool = False  # False: the reader cannot fetch blobs, or configs were not asked
    # index child digest -> its config blob, for each child of a wanted platform
    configs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    single_config: Mapping[str, Any] | None = None  # a single (non-index) manifest's config
