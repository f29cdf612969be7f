"""Exit 3 for a library's "could not reach" error is decided by its class, not its module name."""

from __future__ import annotations

import botocore.exceptions
import botocore.parsers
import docker.errors
import requests
import urllib3.exceptions

from graviton.cli import _exit_code_for
from graviton.unreachable import unreachable


class WrappedEndpointError(botocore.exceptions.EndpointConnectionError):
    """A library error subclassed outside the library (as a helper or a test double does)."""


def test_library_errors_are_unreachable() -> None:
    assert unreachable(botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"))
    assert unreachable(botocore.exceptions.ClientError({"Error": {"Code": "X"}}, "Op"))
    assert unreachable(botocore.parsers.ResponseParserError("not the API"))
    assert unreachable(requests.ConnectionError("refused"))
    assert unreachable(urllib3.exceptions.MaxRetryError(None, "/"))  # type: ignore[arg-type]
    assert unreachable(docker.errors.DockerException("no engine"))
    assert not unreachable(ValueError("x"))


def test_a_subclass_defined_elsewhere_is_still_exit_3() -> None:
    assert _exit_code_for(WrappedEndpointError(endpoint_url="http://x")) == 3


def test_a_bug_in_a_library_named_module_is_still_exit_70() -> None:
    class Bug(Exception):
        pass

    Bug.__module__ = "botocore.hooks"
    assert _exit_code_for(Bug("x")) == 70
    assert _exit_code_for(KeyError("x")) == 70
