"""TLS trust for ``requests`` sessions: each CA bundle is loaded once per process, and the
environment (proxies, bundle) is read once per host.

requests hands urllib3 the bundle's path (``verify=``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
else certifi's) and urllib3 loads it into a context for every new connection: ~90 ms of CPU for
a system bundle, paid by every connection of every worker process. :class:`TrustAdapter` gives
each pool one context per bundle instead, loaded on first use and kept (a forked worker
inherits the parent's). What is trusted is unchanged: the same bundle, ``CERT_REQUIRED``,
hostname checks by urllib3; ``verify=False`` still turns verification off.

:class:`SteadySession` keeps what requests reads from the environment for each request
(``*_proxy``/``no_proxy``, ``REQUESTS_CA_BUNDLE``: two scans of ``os.environ``, ~0.2 ms of CPU,
a fifth of a small request's) per scheme and host: it does not change during a run.
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Session
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH


@functools.cache
def context_for(where: str | None) -> ssl.SSLContext:
    """A verifying client context with ``where`` (a bundle file or a certificate directory;
    None: requests' default bundle) loaded once."""
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    where = where or DEFAULT_CA_BUNDLE_PATH
    if os.path.isdir(where):
        context.load_verify_locations(capath=where)
    else:
        context.load_verify_locations(cafile=where)
    return context


def environment_bundle() -> str | None:
    """The bundle requests takes from the environment (its own order), if any."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


class TrustAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` whose HTTPS pools share one loaded context per CA bundle."""

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[Any, Any]:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        kwargs: dict[str, Any] = pool  # type: ignore[assignment]
        if host.get("scheme") == "https" and verify is not False:
            where = kwargs.pop("ca_certs", None) or kwargs.pop("ca_cert_dir", None)
            kwargs["ssl_context"] = context_for(where if isinstance(verify, str) else None)
        return host, kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        if verify is not False and url.lower().startswith("https"):
            where = verify if isinstance(verify, str) else None
            if getattr(conn, "conn_kw", {}).get("ssl_context") is context_for(where):
                conn.ca_certs = None  # already in the pool's context: not loaded again
                conn.ca_cert_dir = None


class SteadySession(Session):
    """A :class:`requests.Session` that reads the environment once per scheme, host and
    request settings (a request with its own ``proxies`` is merged as usual)."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if proxies or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            stream,
            verify,
            cert,
            tuple(sorted(self.proxies.items())),
        )
        settings = self._environment.get(key)
        if settings is None:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings = self._environment[key] = dict(merged)
        return {**settings, "proxies": dict(settings["proxies"])}
