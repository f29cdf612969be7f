"""Read an image from its registry and judge it: the one call ``verify``, ``build --push`` and
``gate`` make (gathering in :mod:`graviton.oci.fetch`, the verdict in
:mod:`graviton.checks.image`)."""

from __future__ import annotations

from collections.abc import Iterable

from graviton.checks.image import DEFAULT_REQUIRED, ImageCheck, judge_image
from graviton.oci.ecr import EcrClients
from graviton.oci.fetch import read_image
from graviton.oci.manifest import ManifestReader


def check_image(
    ref_text: str,
    required: Iterable[str] = DEFAULT_REQUIRED,
    *,
    reader: ManifestReader | None = None,
    ecr: EcrClients | None = None,
    check_configs: bool = True,
) -> ImageCheck:
    """Does ``ref_text`` hold every ``required`` platform (configs checked when the reader can
    fetch blobs)? Amazon ECR images are read in their own region with ``ecr``'s AWS options."""
    required = tuple(required)
    facts = read_image(ref_text, required, reader=reader, ecr=ecr, check_configs=check_configs)
    return judge_image(facts, required)
