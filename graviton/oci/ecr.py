"""Amazon ECR: manifests through the ECR API (``batch_get_image``, which ``--endpoint-url``
reaches, moto included) and registry credentials from ``GetAuthorizationToken``.

An ECR registry lives in one region, the one its host names
(``ACCOUNT.dkr.ecr.REGION.amazonaws.com``): an image is always read there, whatever region the
command works in (an ECS service in eu-west-1 may run an image from us-east-1).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graviton.errors import InputError
from graviton.oci.manifest import ACCEPT, OciManifest
from graviton.oci.reference import ImageRef


class EcrReader:
    """Reads manifests from Amazon ECR with ``batch_get_image`` (works against moto too)."""

    def __init__(self, ecr_client: Any) -> None:
        self._ecr = ecr_client

    def get_manifest(self, ref: ImageRef) -> OciManifest:
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
        return OciManifest(
            media_type=media_type, body=body, digest=image.get("imageId", {}).get("imageDigest")
        )


def ecr_credentials(ecr_client: Any) -> tuple[str, str]:
    """``AWS:<password>`` from ECR's GetAuthorizationToken (the token is valid for 12 hours)."""
    resp = ecr_client.get_authorization_token()
    token = resp["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    return user, password


@dataclass
class EcrClients:
    """ECR clients with a command's ``--profile`` and ``--endpoint-url``, one per region, each in
    the region of the registry it reads; ``--region`` (the service's) is not used for images."""

    profile: str | None = None
    endpoint_url: str | None = None
    make: Callable[[str], Any] | None = None  # region -> ECR client (default: from the options)
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def api_only(self) -> bool:
        """With an endpoint URL (moto, LocalStack) only the ECR API answers, not the registry."""
        return self.endpoint_url is not None

    def client(self, ref: ImageRef) -> Any:
        if ref.ecr is None:
            raise InputError(f"not an ECR image: {ref}")
        region = ref.ecr[1]
        if region not in self._clients and self.make is not None:
            self._clients[region] = self.make(region)
        if region not in self._clients:
            from graviton.aws import AwsOptions

            options = AwsOptions(
                region=region, profile=self.profile, endpoint_url=self.endpoint_url
            )
            self._clients[region] = options.client("ecr")
        return self._clients[region]
