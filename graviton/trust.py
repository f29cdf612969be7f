"""TLS trust for ``requests`` sessions: each CA bundle is loaded once per process.

requests hands urllib3 the bundle's path (``verify=``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
else certifi's) and urllib3 loads it into a context for every new connection: ~90 ms of CPU for
a system bundle, paid by every connection of every worker process. :class:`TrustAdapter` gives
each pool one context per bundle instead, loaded on first use and kept (a forked worker
inherits the parent's). What is trusted is unchanged: the same bundle, ``CERT_REQUIRED``,
hostname checks by urllib3; ``verify=False`` still turns verification off.
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any

from requests import PreparedRequest
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
