"""Which third-party errors mean "a service could not be reached or read" (exit 3).

graviton's adapters turn these into :class:`graviton.errors.ServiceUnavailable` where they can;
this is the typed test for the ones that get past them (the CLI's last resort, and callers that
must tell "could not reach" from "answered no"). By class, never by the module's name: a library
exception is caught wherever it was raised or subclassed, a bug in graviton is not.
"""

from __future__ import annotations

import sys

# module -> the names of its exception base classes that mean "could not reach or read"
_BASES = {
    "botocore.exceptions": ("BotoCoreError", "ClientError"),
    "botocore.parsers": ("ResponseParserError",),
    "boto3.exceptions": ("Boto3Error",),
    "requests.exceptions": ("RequestException",),
    "urllib3.exceptions": ("HTTPError",),
    "docker.errors": ("DockerException",),
}


def service_error_types() -> tuple[type[BaseException], ...]:
    """The base classes of the libraries already imported (an exception of a library that was
    never imported cannot have been raised, so nothing is imported here)."""
    found: list[type[BaseException]] = []
    for module_name, names in _BASES.items():
        module = sys.modules.get(module_name)
        for name in names:
            cls = getattr(module, name, None)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found.append(cls)
    return tuple(found)


def unreachable(exc: BaseException) -> bool:
    """True for a botocore, boto3, requests, urllib3 or docker SDK error."""
    return isinstance(exc, service_error_types())
