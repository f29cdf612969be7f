"""Index URLs: checked before use, and shown only without their credentials."""

from __future__ import annotations

import ipaddress
from functools import cache
from urllib.parse import urljoin, urlsplit

from packaging.utils import canonicalize_name

from graviton.errors import UsageError, strip_credentials

PYPI = "https://pypi.org/simple/"


def redact(url: str) -> str:
    """The URL without user:password, for messages, reports and cache files (never raises)."""
    return strip_credentials(url)


@cache
def index_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a simple-index base URL, or None when it can."""
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            return f"scheme {parts.scheme + ':' if parts.scheme else '(none)'} is not http or https"
        host = parts.netloc.rpartition("@")[2]
        if not parts.hostname or host.startswith(":"):
            return "no host"
        if host.startswith("["):
            ipaddress.IPv6Address(host[1:].partition("]")[0].partition("%")[0])
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        return strip_credentials(str(exc)) or "not a URL"
    if any(c.isspace() for c in url):
        return "contains whitespace"
    import requests

    try:
        requests.Request("GET", url).prepare()
    except (requests.RequestException, ValueError) as exc:
        return type(exc).__name__
    return None


def check_index_url(url: str, what: str = "index URL") -> str:
    """``url`` with a trailing slash; a URL that cannot be an index is exit 2, never a crash."""
    problem = index_url_problem(url)
    if problem:
        raise UsageError(f"{what} {redact(url)!r}: {problem}")
    return url if url.endswith("/") else url + "/"


def page_url(index_url: str, name: str) -> str:
    """The project page: ``<index>/<normalised name>/`` (PEP 503)."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    return urljoin(base, canonicalize_name(name) + "/")
