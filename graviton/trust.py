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
a fifth of a small request's) per scheme and host: it does not change during a run. It also
sends a plain streamed GET (no body, cookies, hooks or per-request auth, proxies or TLS
settings: a page, a range of a wheel) without requests' per-request preparation (~0.35 ms of
CPU: the session's headers, netrc, cookies and auth merged, the URL re-parsed and re-quoted):
what that preparation gives a URL's scheme and host is worked out once, by requests itself, and
reused; the request then goes out through the same adapter (its pools, retries, TLS, proxies,
errors). Anything the reuse could get wrong takes requests' own path: a URL requests would
rewrite, a redirect (followed, auth stripped across hosts, by requests from the start), a
session with cookies or hooks.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Request, Response, Session
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, check_header_validity


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


# a URL requests sends as written: http(s), a host part, then a path and query of characters
# that requote_uri leaves alone (no "%": it would decode an escaped unreserved character)
_AS_WRITTEN = re.compile(r"(https?://[^/?#\s]+)(/[A-Za-z0-9._~!#$&'()*+,/:;=?@\[\]-]*)")


@dataclass(frozen=True)
class _Prepared:
    """What requests' preparation gives every plain GET of one scheme and host."""

    headers: CaseInsensitiveDict[str]  # the session's, with auth (URL, netrc, session) applied
    settings: dict[str, Any]  # proxies, verify, cert, stream: as merge_environment_settings


class SteadySession(Session):
    """A :class:`requests.Session` that reads the environment once per scheme, host and
    request settings (a request with its own ``proxies`` is merged as usual), and sends plain
    streamed GETs without preparing each from scratch (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], dict[str, Any]] = {}
        # by scheme and host, and the session settings it was worked out from; None: no reuse
        self._prepared: dict[tuple[Any, ...], _Prepared | None] = {}

    def request(  # type: ignore[override]
        self,
        method: str,
        url: Any,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
    ) -> Response:
        plain = (
            method == "GET"
            and stream is True
            and allow_redirects
            and isinstance(url, str)
            and not (params or data or cookies or files or auth or proxies or hooks or json)
            and verify is None
            and cert is None
        )
        if plain:
            sent = self._send_plain(url, headers or {}, timeout)
            if sent is not None:
                return sent
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            cookies=cookies,
            files=files,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies=proxies,
            hooks=hooks,
            stream=stream,
            verify=verify,
            cert=cert,
            json=json,
        )

    def _send_plain(self, url: str, headers: dict[str, Any], timeout: Any) -> Response | None:
        """The response to a plain streamed GET, or None if requests' own path must send it."""
        m = _AS_WRITTEN.fullmatch(url)
        if m is None or any(k.lower() == "authorization" for k in headers):
            return None
        if len(self.cookies) or any(self.hooks.values()):
            return None  # requests would add a Cookie header, or run hooks: its path
        if not (self.auth is None or isinstance(self.auth, tuple)):
            return None  # an auth object may sign each request differently
        base = m[1]
        key = (base, self.auth, self.trust_env, *self.headers.items())
        if key not in self._prepared:
            self._prepared[key] = self._prepare_base(base)
        prepared = self._prepared[key]
        if prepared is None:
            return None
        merged = prepared.headers.copy()
        for name, value in headers.items():
            if value is None:
                merged.pop(name, None)
            else:
                check_header_validity((name, value))
                merged[name] = value
        request = PreparedRequest()
        request.method = "GET"
        request.url = url
        request.headers = merged
        settings = prepared.settings
        response = self.get_adapter(url).send(
            request,
            stream=True,
            timeout=timeout,
            verify=settings["verify"],
            cert=settings["cert"],
            proxies=settings["proxies"],
        )
        if response.is_redirect:  # requests follows it (and strips auth across hosts)
            response.close()
            return None
        if "set-cookie" in response.headers:  # kept, as requests does (and from now on, its path)
            extract_cookies_to_jar(self.cookies, request, response.raw)  # type: ignore[no-untyped-call]
        return response

    def _prepare_base(self, base: str) -> _Prepared | None:
        """requests' own preparation of ``base/``, kept when it sends URLs of this scheme and
        host as written (else None: every such request takes requests' path)."""
        probe = self.prepare_request(Request("GET", base + "/"))
        if probe.url != base + "/":
            return None
        settings = self.merge_environment_settings(base + "/", {}, True, None, None)
        return _Prepared(probe.headers, settings)  # type: ignore[arg-type]

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
