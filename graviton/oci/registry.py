"""Read manifests and blobs from a registry over the OCI distribution API.

``GET /v2/<name>/manifests/<ref>`` with Accept for OCI index, Docker manifest list and both
manifest types; the digest comes from ``Docker-Content-Digest``. Authentication, in the order a
registry asks for it:

* a 401 with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``: GET the realm for a
  token (with the user's credentials when there are any) and retry with ``Bearer <token>``;
* a 401 with ``WWW-Authenticate: Basic``: the user's credentials;
* Amazon ECR: Basic ``AWS:<password>`` from boto3's ``get_authorization_token`` (12 h);
* credentials come from docker's ``config.json`` (``auths`` or a credential helper).

Registries on loopback (localhost, 127.0.0.1, ::1) are spoken to over plain http, as docker does.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from graviton.errors import GravitonError, ServiceUnavailable
from graviton.oci.ecr import EcrClients, ecr_credentials
from graviton.oci.manifest import ACCEPT, OciManifest
from graviton.oci.reference import ImageRef

DOCKER_HUB = "registry-1.docker.io"
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1")
USER_AGENT = "graviton (+https://github.com/graviton)"


class RegistryUnreachable(ServiceUnavailable):
    """No answer at all (DNS, connection, timeout): nothing is known about the image."""


class NotFound(GravitonError):
    """The registry answered, and the image (or blob) is not there: a verification failure."""

    exit_code = 1


@dataclass(frozen=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` challenge."""

    scheme: str  # lower-case: "bearer", "basic"
    params: Mapping[str, str]


_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?')


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Pure: ``Bearer realm="https://auth",service="reg",scope="repository:a/b:pull"`` ->
    challenges. Handles several challenges in one header, quoted commas and escapes."""
    out: list[Challenge] = []
    rest = header.strip()
    while rest:
        m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", rest)
        if not m:
            break
        scheme = m[1].lower()
        rest = rest[m.end() :]
        params: dict[str, str] = {}
        while rest:
            pm = _PARAM.match(rest)
            # a bare word not followed by "=" starts the next challenge
            if not pm or pm.end() == 0:
                break
            value = pm[2] if pm[2] is not None else pm[3]
            params[pm[1].lower()] = re.sub(r"\\(.)", r"\1", value)
            rest = rest[pm.end() :].lstrip()
        out.append(Challenge(scheme, params))
        rest = rest.lstrip(", ")
    return out


def registry_host(ref: ImageRef) -> str:
    return DOCKER_HUB if ref.registry == "docker.io" else ref.registry


def base_url(ref: ImageRef) -> str:
    host = registry_host(ref)
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    scheme = "http" if hostname in LOOPBACK else "https"
    return f"{scheme}://{host}"


def docker_config_path() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def docker_credentials(registry: str, config_path: Path | None = None) -> tuple[str, str] | None:
    """(user, password) for ``registry`` from docker's config.json: ``auths`` entries or a
    credential helper (``credHelpers`` / ``credsStore``). None when there are none."""
    path = config_path or docker_config_path()
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    key = DOCKER_HUB_CONFIG_KEY if registry in ("docker.io", DOCKER_HUB) else registry
    helper = (config.get("credHelpers") or {}).get(key) or config.get("credsStore")
    if helper:
        creds = _from_helper(helper, key)
        if creds:
            return creds
    auths = config.get("auths") or {}
    for name, entry in auths.items():
        host = re.sub(r"^https?://", "", name).split("/")[0]
        if name == key or host == key:
            if entry.get("auth"):
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                return user, password
            if entry.get("username"):
                return entry["username"], entry.get("password", "")
    return None


def _from_helper(helper: str, server: str) -> tuple[str, str] | None:
    try:
        proc = subprocess.run(
            [f"docker-credential-{helper}", "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return None
    return (data.get("Username", ""), data.get("Secret", "")) if data.get("Secret") else None


class RegistryReader:
    """A small OCI distribution API client: manifests by tag or digest, blobs by digest."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        credentials: tuple[str, str] | None = None,
        ecr_client: Any = None,
        docker_config: Path | None = None,
        timeout: float = 20.0,
    ) -> None:
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._credentials = credentials
        self._ecr_client = ecr_client
        self._docker_config = docker_config
        self._timeout = timeout
        self._auth: dict[tuple[str, str], str] = {}  # (host, repository) -> Authorization

    # -- public API -------------------------------------------------------------------------------
    def get_manifest(self, ref: ImageRef) -> OciManifest:
        url = f"{base_url(ref)}/v2/{ref.repository}/manifests/{ref.reference}"
        resp = self._get(ref, url, {"Accept": ", ".join(ACCEPT)})
        try:
            body = resp.json()
        except ValueError:
            raise ServiceUnavailable(
                f"{ref}: the registry sent a manifest that is not JSON"
            ) from None
        media_type = body.get("mediaType") or resp.headers.get("Content-Type", "").split(";")[0]
        digest = resp.headers.get("Docker-Content-Digest")
        if digest is None and ref.is_digest:
            digest = ref.reference
        return OciManifest(media_type=media_type, body=body, digest=digest)

    def get_blob(self, ref: ImageRef, digest: str) -> bytes:
        url = f"{base_url(ref)}/v2/{ref.repository}/blobs/{digest}"
        return self._get(ref, url, {}).content

    # -- HTTP with the auth dance -----------------------------------------------------------------
    def _get(self, ref: ImageRef, url: str, headers: dict[str, str]) -> requests.Response:
        key = (registry_host(ref), ref.repository)
        hdrs = dict(headers)
        if key not in self._auth and ref.ecr is not None:
            self._auth[key] = self._basic(ref)
        if key in self._auth:
            hdrs["Authorization"] = self._auth[key]
        resp = self._request(ref, url, hdrs)
        if resp.status_code == 401:
            self._auth[key] = self._authorize(ref, resp.headers.get("WWW-Authenticate", ""))
            hdrs["Authorization"] = self._auth[key]
            resp = self._request(ref, url, hdrs)
        if resp.status_code == 404:
            what = "blob" if "/blobs/" in url else "image"
            raise NotFound(f"{ref}: {what} not found in the registry ({_error_text(resp)})")
        if resp.status_code in (401, 403):
            raise ServiceUnavailable(
                f"{ref}: the registry refused access ({resp.status_code} {_error_text(resp)}); "
                f"log in with: docker login {ref.registry}"
            )
        if resp.status_code >= 400:
            raise ServiceUnavailable(f"{ref}: registry answered {resp.status_code} for {url}")
        return resp

    def _request(self, ref: ImageRef, url: str, headers: dict[str, str]) -> requests.Response:
        try:
            return self._session.get(url, headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RegistryUnreachable(
                f"{ref}: registry unreachable: {url}: {_short(exc)}"
            ) from None

    def _user_credentials(self, ref: ImageRef) -> tuple[str, str] | None:
        if self._credentials:
            return self._credentials
        if ref.ecr is not None:
            return self._ecr(ref)
        return docker_credentials(ref.registry, self._docker_config)

    def _ecr(self, ref: ImageRef) -> tuple[str, str]:
        from graviton.aws import aws_errors

        with aws_errors(f"ecr get-authorization-token ({ref.registry})"):
            return ecr_credentials(self._ecr_client or EcrClients().client(ref))

    def _basic(self, ref: ImageRef) -> str:
        creds = self._user_credentials(ref)
        if creds is None:
            raise ServiceUnavailable(
                f"{ref}: the registry wants credentials; log in with: docker login {ref.registry}"
            )
        return "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()

    def _authorize(self, ref: ImageRef, header: str) -> str:
        challenges = {c.scheme: c for c in parse_www_authenticate(header)}
        if "bearer" in challenges:
            return "Bearer " + self._token(ref, challenges["bearer"])
        if "basic" in challenges:
            return self._basic(ref)
        raise ServiceUnavailable(f"{ref}: unsupported registry authentication {header!r}")

    def _token(self, ref: ImageRef, challenge: Challenge) -> str:
        realm = challenge.params.get("realm")
        if not realm:
            raise ServiceUnavailable(f"{ref}: bearer challenge without a realm")
        params = {"scope": challenge.params.get("scope") or f"repository:{ref.repository}:pull"}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        creds = self._user_credentials(ref)
        try:
            resp = self._session.get(realm, params=params, auth=creds, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RegistryUnreachable(
                f"token service unreachable: {realm}: {_short(exc)}"
            ) from None
        if resp.status_code in (401, 403):
            raise ServiceUnavailable(
                f"{ref}: the token service refused access ({resp.status_code}); "
                f"log in with: docker login {ref.registry}"
            )
        if resp.status_code >= 400:
            raise ServiceUnavailable(f"{ref}: token service answered {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise ServiceUnavailable(f"{ref}: the token service did not answer JSON") from None
        token = data.get("token") or data.get("access_token")
        if not token:
            raise ServiceUnavailable(f"{ref}: the token service answered without a token")
        return str(token)


def _error_text(resp: requests.Response) -> str:
    try:
        errors = resp.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or resp.reason
    except ValueError:
        return resp.reason or str(resp.status_code)


def _short(exc: BaseException) -> str:
    """The useful tail of a urllib3 error: "...: [Errno 111] Connection refused'))"."""
    text = str(exc)
    m = re.search(r"\] ([^'\"\]]+)['\"]?\)*$", text)
    if m:
        return m[1].rstrip(")")
    # "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    m = re.search(r"\w+\(['\"]([^'\"]+)['\"]\)\)*$", text)
    return m[1] if m else text.splitlines()[0][:200]
