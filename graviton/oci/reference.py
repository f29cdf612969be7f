"""Image references, parsed and normalised as the docker CLI does (``python:3.12`` is
``docker.io/library/python:3.12``); Amazon ECR private registries are recognised by their host,
``ACCOUNT.dkr.ecr.REGION.amazonaws.com``, which also names the registry's region."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graviton.errors import InputError

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
