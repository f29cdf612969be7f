"""Does an image in a registry hold every platform we need?  The one check used by
``graviton verify``, ``graviton build --push``, ``graviton shift`` preflight and ``graviton gate``.

The decision (:func:`platforms_in`, :func:`judge`) is pure; reading the manifest is done by a
:class:`ManifestReader`: ECR through the ECR API (``batch_get_image``, so ``--endpoint-url``
reaches it), every other registry through the OCI distribution API
(:mod:`graviton.image.registry`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from graviton.errors import InputError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = (*INDEX_TYPES, *MANIFEST_TYPES)

ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
DEFAULT_REQUIRED = ("linux/amd64", "linux/arm64")

_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference, normalised as the docker CLI does."""

    registry: str  # host[:port]; "docker.io" for Docker Hub
    repository: str  # e.g. "library/python"
    reference: str  # a tag or a digest

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        raw = text.strip()
        if not raw or any(c.isspace() for c in raw):
            raise InputError(f"not an image reference: {text!r}")
        name, reference = raw, "latest"
        if "@" in raw:
            name, reference = raw.split("@", 1)
            if not _DIGEST.match(reference):
                raise InputError(f"bad digest in image reference: {text!r}")
        else:
            slash = raw.rfind("/")
            colon = raw.rfind(":")
            if colon > slash:
                name, reference = raw[:colon], raw[colon + 1 :]
                if not reference:
                    raise InputError(f"empty tag in image reference: {text!r}")
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, repository = first, rest
        else:
            registry, repository = "docker.io", name
            if "/" not in repository:
                repository = f"library/{repository}"
        if not repository or repository != repository.lower() or "//" in repository:
            raise InputError(f"bad repository in image reference: {text!r}")
        return cls(registry=registry, repository=repository, reference=reference)

    @property
    def is_digest(self) -> bool:
        return ":" in self.reference and bool(_DIGEST.match(self.reference))

    @property
    def ecr(self) -> tuple[str, str] | None:
        """(account id, region) when this is an Amazon ECR private registry."""
        m = _ECR_HOST.match(self.registry)
        return (m["account"], m["region"]) if m else None

    def __str__(self) -> str:
        sep = "@" if self.is_digest else ":"
        return f"{self.registry}/{self.repository}{sep}{self.reference}"


@dataclass(frozen=True)
class Manifest:
    """A manifest as the registry returned it."""

    media_type: str
    body: Mapping[str, Any]
    digest: str | None = None


class ManifestReader(Protocol):
    """Reads a manifest (index or single) by tag or digest."""

    def get_manifest(self, ref: ImageRef) -> Manifest: ...


@runtime_checkable
class BlobReader(Protocol):
    """A reader that can also fetch blobs (the OCI distribution API one can; ECR's API cannot)."""

    def get_manifest(self, ref: ImageRef) -> Manifest: ...

    def get_blob(self, ref: ImageRef, digest: str) -> bytes: ...


@dataclass(frozen=True)
class PlatformEntry:
    """One child of an image index."""

    platform: str  # "linux/arm64", "linux/arm/v7", "unknown/unknown"
    digest: str
    attestation: bool


@dataclass(frozen=True)
class ImageCheck:
    """The answer for one image."""

    ref: str
    digest: str | None  # the index (or single manifest) digest
    platforms: tuple[PlatformEntry, ...]  # real platforms, attestations excluded
    required: tuple[str, ...]
    missing: tuple[str, ...]
    is_index: bool
    attestations: int = 0
    # children whose config blob says another os/architecture than their index entry
    mismatches: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatches

    def digest_for(self, platform: str) -> str | None:
        for entry in self.platforms:
            if entry.platform == platform:
                return entry.digest
        return None

    def summary(self) -> str:
        have = ", ".join(p.platform for p in self.platforms) or "no platform"
        if self.ok:
            return f"{self.ref}: has {have}"
        if not self.missing:
            return f"{self.ref}: {'; '.join(self.mismatches)}"
        kind = "image index" if self.is_index else "single-platform manifest (not an index)"
        return f"{self.ref}: {kind} lacks {', '.join(self.missing)} (has {have})"


def platforms_in(manifest: Manifest) -> list[PlatformEntry]:
    """Children of an index; attestation manifests are flagged, never counted as platforms."""
    if manifest.media_type not in INDEX_TYPES and "manifests" not in manifest.body:
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


def _normalise(platform: str) -> str:
    """linux/arm64/v8 is linux/arm64 for our purpose; aarch64/x86_64 aliases are accepted."""
    parts = platform.lower().split("/")
    aliases = {"aarch64": "arm64", "x86_64": "amd64", "x86-64": "amd64"}
    if len(parts) >= 2:
        parts[1] = aliases.get(parts[1], parts[1])
    if parts[:2] == ["linux", "arm64"]:
        parts = parts[:2]
    return "/".join(parts)


def judge(
    ref: str,
    manifest: Manifest,
    required: Iterable[str] = DEFAULT_REQUIRED,
    single_platform: str | None = None,
) -> ImageCheck:
    """Pure: which of ``required`` the manifest provides.

    ``single_platform`` is the platform of a single (non-index) manifest, read from its config
    blob by the caller when it can; without it a single manifest proves no platform.
    """
    req = tuple(_normalise(p) for p in required)
    entries = platforms_in(manifest)
    is_index = manifest.media_type in INDEX_TYPES or bool(entries)
    real = tuple(e for e in entries if not e.attestation)
    if not is_index and single_platform:
        real = (PlatformEntry(_normalise(single_platform), manifest.digest or "", False),)
    have = {_normalise(e.platform) for e in real}
    missing = tuple(p for p in req if p not in have)
    return ImageCheck(
        ref=ref,
        digest=manifest.digest,
        platforms=real,
        required=req,
        missing=missing,
        is_index=is_index,
        attestations=sum(1 for e in entries if e.attestation),
    )


class EcrReader:
    """Reads manifests from Amazon ECR with ``batch_get_image`` (works against moto too)."""

    def __init__(self, ecr_client: Any) -> None:
        self._ecr = ecr_client

    def get_manifest(self, ref: ImageRef) -> Manifest:
        ident = ref.ecr
        if ident is None:
            raise InputError(f"not an ECR image: {ref}")
        image_id = {"imageDigest": ref.reference} if ref.is_digest else {"imageTag": ref.reference}
        resp = self._ecr.batch_get_image(
            registryId=ident[0],
            repositoryName=ref.repository,
            imageIds=[image_id],
            acceptedMediaTypes=list(ACCEPT),
        )
        images = resp.get("images") or []
        if not images:
            failures = resp.get("failures") or [{}]
            reason = (
                failures[0].get("failureReason") or failures[0].get("failureCode") or "not found"
            )
            raise LookupError(f"{ref}: {reason}")
        image = images[0]
        body = json.loads(image["imageManifest"])
        media_type = image.get("imageManifestMediaType") or body.get("mediaType") or ""
        return Manifest(
            media_type=media_type, body=body, digest=image.get("imageId", {}).get("imageDigest")
        )


def config_platform(config: Mapping[str, Any]) -> str | None:
    """Pure: "os/architecture[/variant]" from an image config blob, None if it says nothing."""
    if not config.get("architecture"):
        return None
    name = f"{config.get('os') or 'unknown'}/{config['architecture']}"
    return f"{name}/{config['variant']}" if config.get("variant") else name


def config_mismatch(entry: PlatformEntry, config: Mapping[str, Any]) -> str | None:
    """Pure: why a child whose config says another platform than its index entry is wrong."""
    actual = config_platform(config)
    if actual is None:
        return f"{entry.platform} child {entry.digest} has no architecture in its config"
    if _normalise(actual) != _normalise(entry.platform):
        return (
            f"{entry.platform} child {entry.digest} is really {actual} "
            "(its config blob says so): the index entry lies"
        )
    return None


def _read_config(reader: BlobReader, ref: ImageRef, manifest: Manifest) -> Mapping[str, Any]:
    digest = (manifest.body.get("config") or {}).get("digest")
    if not digest:
        return {}
    data: Mapping[str, Any] = json.loads(reader.get_blob(ref, str(digest)))
    return data


def check_image(
    ref_text: str,
    required: Iterable[str] = DEFAULT_REQUIRED,
    *,
    ecr_client: Any = None,
    reader: ManifestReader | None = None,
    check_configs: bool = True,
) -> ImageCheck:
    """Read ``ref_text``'s manifest and judge it. ECR references use ``ecr_client`` when given
    (so ``--endpoint-url`` applies); everything else goes through the OCI distribution API.

    When the reader can fetch blobs and ``check_configs`` is set, each required platform's child
    manifest and config blob are read too, and a child whose config architecture differs from
    its index entry is reported (``mismatches``); a single manifest's platform comes from its
    config."""
    ref = ImageRef.parse(ref_text)
    if reader is None:
        if ref.ecr is not None and ecr_client is not None:
            reader = EcrReader(ecr_client)
        else:
            from graviton.image.registry import RegistryReader  # the OCI distribution client

            reader = RegistryReader(ecr_client=ecr_client)
    manifest = reader.get_manifest(ref)
    if not check_configs or not isinstance(reader, BlobReader):
        return judge(ref_text, manifest, required)
    if manifest.media_type not in INDEX_TYPES and "manifests" not in manifest.body:
        single = config_platform(_read_config(reader, ref, manifest))
        return judge(ref_text, manifest, required, single_platform=single)
    check = judge(ref_text, manifest, required)
    wanted = set(check.required)
    mismatches = []
    for entry in check.platforms:
        if _normalise(entry.platform) not in wanted:
            continue
        child_ref = ImageRef(ref.registry, ref.repository, entry.digest)
        child = reader.get_manifest(child_ref)
        problem = config_mismatch(entry, _read_config(reader, child_ref, child))
        if problem:
            mismatches.append(problem)
    return replace(check, mismatches=tuple(mismatches))
