"""Gather what the image checks judge: an image's manifest and, for each required platform, its
child's config blob. The decision is :func:`graviton.checks.image.judge_image`'s."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from graviton.oci.ecr import EcrClients, EcrReader
from graviton.oci.manifest import (
    BlobReader,
    ImageFacts,
    ManifestReader,
    OciManifest,
    is_index,
    normalise_platform,
    platforms_in,
)
from graviton.oci.reference import ImageRef
from graviton.oci.registry import RegistryReader


def reader_for(ref: ImageRef, ecr: EcrClients | None = None) -> ManifestReader:
    """The reader for ``ref``: Amazon ECR through the ECR API when only the API answers
    (``--endpoint-url``), else the OCI distribution API (ECR with a token from the ECR API)."""
    if ref.ecr is not None and ecr is not None:
        client = ecr.client(ref)
        return EcrReader(client) if ecr.api_only else RegistryReader(ecr_client=client)
    return RegistryReader()


def read_image(
    ref_text: str,
    required: Iterable[str],
    *,
    reader: ManifestReader | None = None,
    ecr: EcrClients | None = None,
    check_configs: bool = True,
) -> ImageFacts:
    """Read ``ref_text``'s manifest; with ``check_configs`` (and a reader that can fetch blobs),
    also each ``required`` platform's child manifest and config blob, or a single manifest's
    config. An unreachable registry raises (exit 3); a missing image raises ``NotFound``."""
    ref = ImageRef.parse(ref_text)
    reader = reader or reader_for(ref, ecr)
    manifest = reader.get_manifest(ref)
    if not check_configs or not isinstance(reader, BlobReader):
        return ImageFacts(ref_text, manifest)
    if not is_index(manifest):
        return ImageFacts(ref_text, manifest, True, single_config=_config(reader, ref, manifest))
    wanted = {normalise_platform(p) for p in required}
    configs = {}
    for entry in platforms_in(manifest):
        if entry.attestation or normalise_platform(entry.platform) not in wanted:
            continue
        child_ref = ImageRef(ref.registry, ref.repository, entry.digest)
        configs[entry.digest] = _config(reader, child_ref, reader.get_manifest(child_ref))
    return ImageFacts(ref_text, manifest, True, configs=configs)


def _config(reader: BlobReader, ref: ImageRef, manifest: OciManifest) -> Mapping[str, Any]:
    digest = (manifest.body.get("config") or {}).get("digest")
    if not digest:
        return {}
    data: Mapping[str, Any] = json.loads(reader.get_blob(ref, str(digest)))
    return data
