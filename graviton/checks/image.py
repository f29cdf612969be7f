"""Does an image hold every platform we need?  The one image check used by ``graviton verify``,
``graviton build --push``, ``graviton shift`` preflight and ``graviton gate``.

Pure: it judges what :func:`graviton.oci.fetch.read_image` gathered (the manifest, and the config
blobs of the required platforms' children).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from graviton.oci.manifest import (
    ImageFacts,
    OciManifest,
    PlatformEntry,
    config_platform,
    is_index,
    normalise_platform,
    platforms_in,
)

DEFAULT_REQUIRED = ("linux/amd64", "linux/arm64")


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


def judge(
    ref: str,
    manifest: OciManifest,
    required: Iterable[str] = DEFAULT_REQUIRED,
    single_platform: str | None = None,
) -> ImageCheck:
    """Which of ``required`` the manifest provides.

    ``single_platform`` is the platform of a single (non-index) manifest, read from its config
    blob by the caller when it can; without it a single manifest proves no platform.
    """
    req = tuple(normalise_platform(p) for p in required)
    entries = platforms_in(manifest)
    index = is_index(manifest) or bool(entries)
    real = tuple(e for e in entries if not e.attestation)
    if not index and single_platform:
        real = (PlatformEntry(normalise_platform(single_platform), manifest.digest or "", False),)
    have = {normalise_platform(e.platform) for e in real}
    missing = tuple(p for p in req if p not in have)
    return ImageCheck(
        ref=ref,
        digest=manifest.digest,
        platforms=real,
        required=req,
        missing=missing,
        is_index=index,
        attestations=sum(1 for e in entries if e.attestation),
    )


def config_mismatch(entry: PlatformEntry, config: Mapping[str, Any]) -> str | None:
    """Why a child whose config says another platform than its index entry is wrong."""
    actual = config_platform(config)
    if actual is None:
        return f"{entry.platform} child {entry.digest} has no architecture in its config"
    if normalise_platform(actual) != normalise_platform(entry.platform):
        return (
            f"{entry.platform} child {entry.digest} is really {actual} "
            "(its config blob says so): the index entry lies"
        )
    return None


def judge_image(facts: ImageFacts, required: Iterable[str] = DEFAULT_REQUIRED) -> ImageCheck:
    """:func:`judge` over gathered facts: a single manifest's platform comes from its config,
    and each required child whose config says another platform is a mismatch."""
    if not facts.configs_read:
        return judge(facts.ref, facts.manifest, required)
    if facts.single_config is not None:
        single = config_platform(facts.single_config)
        return judge(facts.ref, facts.manifest, required, single_platform=single)
    check = judge(facts.ref, facts.manifest, required)
    mismatches = [
        problem
        for entry in check.platforms
        if entry.digest in facts.configs
        and (problem := config_mismatch(entry, facts.configs[entry.digest]))
    ]
    return replace(check, mismatches=tuple(mismatches))
