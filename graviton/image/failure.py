"""Pure: what a failed ``docker buildx`` run means, read from its ``--progress plain`` output.

buildx exits 1 for everything: a RUN step that failed and a registry that answered 500 to the
push look alike but for the ``ERROR:`` line. graviton's exit codes tell them apart (1 the build
failed, 3 a registry could not be used), so :func:`classify` reads that line, and
:class:`PushWatch` follows which build steps are pushing (buildx prints nothing while a push
waits on the registry, slow or stalled: the only sign of a stalled push is silence during one).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from graviton.errors import ServiceUnavailable


class RegistryFailed(ServiceUnavailable):
    """The engine could not use a registry for graviton: a push (or a pull) got an HTTP error,
    a refused or dropped connection, a timeout, or stalled. Exit 3, like every registry error."""


class FailureKind(enum.Enum):
    BUILD = "build"  # a Dockerfile step, a missing file, an image that does not exist: exit 1
    REGISTRY = "registry"  # a registry refused, failed or did not answer (push or pull): exit 3


# a RUN step's own failure: its command line may contain any word below ("curl ... 500")
_STEP_FAILED = re.compile(r'process ".*" did not complete successfully|executor failed running')

# containerd's / buildkit's words for a registry that answered with an error or not at all
_REGISTRY = re.compile(
    r"""(?ix)
      \bfailed\ to\ push\b
    | \bunexpected\ status\b                       # unexpected status from PUT request to ...: 500
    | \bfailed\ to\ do\ request\b                  # no HTTP answer (dial, reset, EOF, TLS)
    | \b(?:401\ unauthorized|403\ forbidden|429\ too\ many\ requests
         |5\d\d\ (?:internal\ server\ error|bad\ gateway|service\ unavailable|gateway\ time-?out))
    | \bconnection\ (?:refused|reset\ by\ peer)\b
    | \bi/o\ timeout\b | \bcontext\ deadline\ exceeded\b | \btls\ handshake\ timeout\b
    | \bno\ such\ host\b | \bserver\ misbehaving\b
    | \bx509:\ | \bserver\ gave\ http\ response\ to\ https\ client\b
    | \bunauthorized:\ | \bdenied:\ | \bauthentication\ required\b | \binsufficient_scope\b
    | \bfailed\ to\ (?:authorize|fetch\ (?:anonymous\ |oauth\ )?token)\b
    | \bpull\ access\ denied\b
    """
)

# a URL's query string (upload session state, signed tokens): noise in a one-line message
_QUERY = re.compile(r"(https?://[^\s\"?]+)\?[^\s\"]*?(:?)(?=[\s\"]|$)")


def classify(reason: str) -> FailureKind:
    """buildx's error line -> what failed. A failed RUN step is the build's failure whatever its
    command says; a push that failed, or any request a registry failed (HTTP 5xx/401/403/429, a
    refused or dropped connection, a timeout, TLS, credentials), is the registry's. Anything else
    (a missing file, an image or tag that does not exist) is the build's."""
    if _STEP_FAILED.search(reason):
        return FailureKind.BUILD
    return FailureKind.REGISTRY if _REGISTRY.search(reason) else FailureKind.BUILD


def tidy(reason: str) -> str:
    """buildx's (or ``docker run``'s) reason without its ``failed to solve:`` (``docker: Error
    response from daemon:``) prefix and URL query strings."""
    text = reason.strip().removeprefix("docker: Error response from daemon: ")
    text = text.removeprefix("failed to solve: ").strip()
    return _QUERY.sub(r"\1\2", text)


_STEP_LINE = re.compile(r"^#(\d+) (.*)$")
_ENDED = ("DONE", "ERROR", "CANCELED", "CACHED")
_DONE_SUFFIX = re.compile(r"(?: [0-9.]+s)? done$")


@dataclass
class PushWatch:
    """Which build steps are pushing, fed buildx's ``--progress plain`` lines one by one.

    A step (``#7``) is pushing from its first ``#7 pushing ...`` line (layers, a manifest, the
    docker driver's own push) until it ends (``#7 DONE``, ``ERROR``, ``CANCELED``)."""

    pushing: dict[str, str] = field(default_factory=dict)  # step number -> its last push line

    def feed(self, line: str) -> None:
        m = _STEP_LINE.match(line.strip())
        if not m:
            return
        step, text = m[1], m[2]
        if text.startswith(_ENDED):
            self.pushing.pop(step, None)
        elif text.startswith("pushing "):
            self.pushing[step] = _DONE_SUFFIX.sub("", text)

    @property
    def current(self) -> str | None:
        """What the latest push step said last, or None when nothing is pushing."""
        return next(reversed(self.pushing.values()), None)
