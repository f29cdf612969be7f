"""Dockerfile checks that catch an image that will not work on arm64 before it is built.

The parser follows the Dockerfile reference: parser directives (``# escape=``), line
continuations (comment and empty lines inside them are dropped), heredocs (``<<EOF``, ``<<-EOF``,
quoted delimiters) whose bodies are checked with their instruction, ``ARG`` scoping (global ARGs
before the first ``FROM`` only feed ``FROM`` lines; a stage sees an ARG only after declaring it).

Rules (a finding carries one of these ids and file:line):

GVD001  a base image of a stage that ends up in the image has no linux/arm64 in its registry index
GVD002  ``FROM --platform=<constant>`` pins a stage that ends up in the image to one platform
GVD003  a RUN/ADD download URL hard-codes an x86 name (amd64, x86_64, x86-64, x64)
GVD004  ``$TARGETARCH``/``$TARGETPLATFORM``/... used in a stage that does not declare the ARG
GVD005  ``curl`` without ``--fail``: a 404 page is saved as if it were the file
GVD006  ``pip install -r FILE`` whose FILE (in the context) has packages that do not install on
        linux/aarch64 (graviton audit)

Only stages reachable from the final stage (through ``FROM <stage>``, ``COPY --from`` and
``RUN --mount=from=``) are judged for GVD001-GVD003: a test or lint stage that never reaches the
image does not block the build.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from graviton.checks.image import ImageCheck
from graviton.errors import InputError
from graviton.findings import Check, Severity

PLATFORM_ARGS = ("TARGETPLATFORM", "TARGETARCH", "TARGETOS", "TARGETVARIANT")
# ARGs buildx predefines: a stage may use them in FROM without a global ARG
AUTOMATIC_ARGS = (*PLATFORM_ARGS, "BUILDPLATFORM", "BUILDARCH", "BUILDOS", "BUILDVARIANT")

_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_URL = re.compile(r"(?:https?|ftp)://[^\s\"'<>`|;]+", re.IGNORECASE)
_X86 = re.compile(r"(?<![a-z0-9])(amd64|x86_64|x86-64|x64)(?![a-z0-9])", re.IGNORECASE)
_ARM = re.compile(r"(?<![a-z0-9])(arm64|aarch64)(?![a-z0-9])", re.IGNORECASE)
_VAR = re.compile(r"(?<!\\)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ...
    text: str  # everything after the keyword (flags included), continuations joined
    line: int  # 1-based line of the keyword
    heredocs: tuple[str, ...] = ()  # heredoc bodies, in order

    @property
    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` flags (``--mount`` may repeat: values joined with ";")."""
        out: dict[str, str] = {}
        for token in _split(self.text):
            if not token.startswith("--"):
                break
            name, _, value = token[2:].partition("=")
            out[name] = f"{out[name]};{value}" if name in out else value
        return out

    @property
    def body(self) -> str:
        """The text after the flags."""
        rest = self.text.lstrip()
        while rest.startswith("--"):
            m = re.match(r"--\S+\s*", rest)
            if m is None:
                break
            rest = rest[m.end() :]
        return rest

    @property
    def content(self) -> str:
        """Body and heredoc bodies: what a shell would run."""
        return "\n".join((self.body, *self.heredocs))


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # the AS name, lower case
    base: str  # the image (or stage) after global ARG substitution
    platform: str | None  # the --platform flag as written
    line: int
    instructions: tuple[Instruction, ...] = field(default=())
    # the --platform flag after global ARG substitution, None when it reads a platform that only
    # the build knows (BUILDPLATFORM, TARGETPLATFORM...) or an ARG without a default
    fixed_platform: str | None = None


# what BuildKit's Dockerfile frontend accepts; anything else fails the build ("unknown
# instruction"), so graviton refuses it too instead of calling the file ok
INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
FROM_FLAGS = ("platform",)


@dataclass(frozen=True)
class Dockerfile:
    path: str
    global_args: Mapping[str, str | None]
    stages: tuple[Stage, ...]

    def stage(self, ref: str) -> Stage | None:
        """The stage named (or numbered) ``ref``, as ``FROM``/``COPY --from`` resolve it."""
        low = ref.lower()
        for stage in self.stages:
            if stage.name == low:
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def parse_instructions(text: str) -> list[Instruction]:
    """Pure: logical instructions with their first line number."""
    lines = text.splitlines()
    escape = "\\"
    i = 0
    # parser directives: only at the very top, before any other line
    while i < len(lines):
        m = re.match(r"^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$", lines[i])
        if not m:
            break
        if m[1].lower() == "escape" and m[2] in ("\\", "`"):
            escape = m[2]
        i += 1
    out: list[Instruction] = []
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i + 1
        parts: list[str] = []
        current = raw.rstrip()
        i += 1
        while current.endswith(escape):
            parts.append(current[: -len(escape)])
            # comment and empty lines inside a continuation are dropped
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            if i >= len(lines):
                current = ""
                break
            current = lines[i].rstrip()
            i += 1
        parts.append(current)
        logical = "".join(parts).strip()
        keyword, _, rest = logical.partition(" ")
        keyword = keyword.upper()
        bodies: list[str] = []
        if keyword in ("RUN", "COPY", "ADD"):
            for m in _HEREDOC.finditer(rest):
                strip_tabs, delimiter = m[1] == "-", m[3]
                body: list[str] = []
                while i < len(lines):
                    line = lines[i]
                    i += 1
                    if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                        break
                    body.append(line.lstrip("\t") if strip_tabs else line)
                bodies.append("\n".join(body))
        out.append(Instruction(keyword, rest.strip(), start, tuple(bodies)))
    return out


def substitute(text: str, values: Mapping[str, str | None]) -> str:
    """Pure: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:+alt}`` as Dockerfiles expand."""

    def repl(m: re.Match[str]) -> str:
        name = m[1] or m[3]
        modifier = m[2] or ""
        value = values.get(name)
        if modifier.startswith(":-"):
            return value if value else modifier[2:]
        if modifier.startswith(":+"):
            return modifier[2:] if value else ""
        return value or ""

    return _VAR.sub(repl, text)


def parse(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None
) -> Dockerfile:
    """Pure: stages with their instructions; FROM lines expanded with the global ARGs."""
    given = dict(build_args or {})
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    current: list[Instruction] = []
    head: tuple[str | None, str, str | None, int, str | None] | None = None

    def close() -> None:
        if head is not None:
            name, base, platform, line, fixed = head
            stages.append(Stage(len(stages), name, base, platform, line, tuple(current), fixed))

    for ins in parse_instructions(text):
        if ins.keyword not in INSTRUCTIONS:
            raise InputError(
                f"unknown instruction {ins.keyword!r}: docker buildx would reject this Dockerfile",
                path=path,
                line=ins.line,
            )
        if ins.keyword == "FROM":
            close()
            current = []
            values = {**global_args, **{k: v for k, v in given.items() if k in global_args}}
            image, name, platform = _from_parts(ins, path)
            base = substitute(image, values)
            head = (name, base, platform, ins.line, _fixed(platform, values))
        elif head is None:
            if ins.keyword != "ARG":
                raise InputError(
                    f"no FROM before this {ins.keyword}: only ARG may come before the first "
                    "FROM (docker buildx would reject this Dockerfile)",
                    path=path,
                    line=ins.line,
                )
            for token in _split(ins.body):
                key, eq, default = token.partition("=")
                global_args[key] = given.get(key, default if eq else None)
        else:
            current.append(ins)
    close()
    if not stages:
        raise InputError("no FROM instruction", path=path)
    return Dockerfile(path=path, global_args=global_args, stages=tuple(stages))


def _from_parts(ins: Instruction, path: str) -> tuple[str, str | None, str | None]:
    """(image, AS name, --platform) of a FROM line, checked as BuildKit checks it:
    ``--flag=value`` flags (only ``--platform``), then ``IMAGE`` or ``IMAGE AS NAME``."""
    tokens = _split(ins.text)
    platform = None
    while tokens and tokens[0].startswith("--"):
        flag, eq, value = tokens.pop(0)[2:].partition("=")
        if flag not in FROM_FLAGS:
            raise InputError(
                f"FROM: unknown flag --{flag} (docker buildx would reject this Dockerfile)",
                path=path,
                line=ins.line,
            )
        if not eq or not value:
            raise InputError(
                f"FROM: --{flag} needs a value written --{flag}=VALUE "
                "(docker buildx would reject this Dockerfile)",
                path=path,
                line=ins.line,
            )
        platform = value
    if len(tokens) == 1:
        return tokens[0], None, platform
    if len(tokens) == 3 and tokens[1].upper() == "AS":
        return tokens[0], tokens[2].lower(), platform
    raise InputError(
        "FROM wants IMAGE or IMAGE AS NAME (docker buildx would reject this Dockerfile)",
        path=path,
        line=ins.line,
    )


def _fixed(platform: str | None, values: Mapping[str, str | None]) -> str | None:
    """The platform a ``--platform`` flag always means, or None: an automatic platform ARG
    (``$BUILDPLATFORM``, ``$TARGETPLATFORM``...) or an ARG without a default (given at build
    time) leave it open; ``ARG P=linux/amd64`` + ``--platform=$P`` fixes it as surely as a
    constant does."""
    if not platform:
        return None
    names = {m[1] or m[3] for m in _VAR.finditer(platform)}
    if names & set(AUTOMATIC_ARGS):
        return None
    expanded = substitute(platform, values)
    if not expanded or "$" in expanded or any(not values.get(n) for n in names):
        return None
    return expanded


def _sources(stage: Stage) -> list[tuple[str, int]]:
    """Stages or images a stage reads from: its base, COPY --from, RUN --mount=from=."""
    out = [(stage.base, stage.line)]
    for ins in stage.instructions:
        flags = ins.flags
        if ins.keyword in ("COPY", "ADD") and flags.get("from"):
            out.append((flags["from"], ins.line))
        if ins.keyword == "RUN" and "mount" in flags:
            for mount in flags["mount"].split(";"):
                for opt in mount.split(","):
                    key, _, value = opt.partition("=")
                    if key == "from" and value:
                        out.append((value, ins.line))
    return out


def reachable(dockerfile: Dockerfile, target: str | None = None) -> list[Stage]:
    """The stages whose output ends up in the image of ``target`` (default: the last stage)."""
    final = dockerfile.stage(target) if target else dockerfile.stages[-1]
    if final is None:
        raise InputError(f"no stage named {target!r}", path=dockerfile.path)
    seen: dict[int, Stage] = {}
    todo = [final]
    while todo:
        stage = todo.pop()
        if stage.index in seen:
            continue
        seen[stage.index] = stage
        for ref, _ in _sources(stage):
            dep = dockerfile.stage(ref)
            if dep is not None and dep.index < stage.index:
                todo.append(dep)
    return [seen[i] for i in sorted(seen)]


def external_images(dockerfile: Dockerfile, stages: Iterable[Stage]) -> list[tuple[str, int]]:
    """(image, line) for every registry image the given stages read, in order, deduplicated.
    ``scratch``, other stages and stages that run on the build platform are left out."""
    out: dict[str, int] = {}
    for stage in stages:
        platform = stage.platform or ""
        for ref, line in _sources(stage):
            if ref.lower() == "scratch" or dockerfile.stage(ref) is not None:
                continue
            if ref == stage.base and ("BUILDPLATFORM" in platform or stage.fixed_platform):
                continue  # runs on the build machine, or pinned (GVD002 says so)
            out.setdefault(ref, line)
    return list(out.items())


# -- the rules ------------------------------------------------------------------------------------
ImageLookup = Callable[[str], ImageCheck]


def check_base_images(
    dockerfile: Dockerfile, stages: Sequence[Stage], lookup: ImageLookup
) -> list[Check]:
    """GVD001: ``lookup`` reads the image's index (a network failure propagates: not a verdict)."""
    out = []
    for image, line in external_images(dockerfile, stages):
        if "$" in image:
            out.append(
                Check(
                    "GVD001",
                    Severity.WARNING,
                    f"cannot check base image {image!r}: an ARG without a value",
                    dockerfile.path,
                    line,
                    fix="give the ARG a default or pass --build-arg",
                )
            )
            continue
        check = lookup(image)
        if not check.ok:
            have = ", ".join(p.platform for p in check.platforms) or "no platform"
            out.append(
                Check(
                    "GVD001",
                    Severity.ERROR,
                    f"base image {image} lacks {', '.join(check.missing) or 'a real platform'} "
                    f"in its registry index (has {have})",
                    dockerfile.path,
                    line,
                    fix="pick a multi-arch base image or tag (docker buildx imagetools inspect)",
                )
            )
    return out


def check_constant_platform(dockerfile: Dockerfile, stages: Sequence[Stage]) -> list[Check]:
    """GVD002."""
    return [
        Check(
            "GVD002",
            Severity.ERROR,
            f"FROM --platform={stage.platform}"
            + (f" (= {stage.fixed_platform})" if stage.fixed_platform != stage.platform else "")
            + f" pins stage "
            f"{stage.name or stage.index} to one platform, and its output ends up in every "
            "variant of the image",
            dockerfile.path,
            stage.line,
            fix="drop --platform, or use --platform=$BUILDPLATFORM for a cross-compiling stage",
        )
        for stage in stages
        if stage.fixed_platform
    ]


def check_x86_downloads(dockerfile: Dockerfile, stages: Sequence[Stage]) -> list[Check]:
    """GVD003: an x86 name in a RUN/ADD URL. An instruction that also names arm64/aarch64 is
    taken to switch per architecture and is left alone."""
    out = []
    for stage in stages:
        if "BUILDPLATFORM" in (stage.platform or ""):
            continue  # this stage runs on the build machine, not in the image
        for ins in stage.instructions:
            if ins.keyword not in ("RUN", "ADD"):
                continue
            content = ins.content
            if _ARM.search(content):
                continue
            for url in _URL.findall(content):
                m = _X86.search(url)
                if m:
                    out.append(
                        Check(
                            "GVD003",
                            Severity.ERROR,
                            f"download URL hard-codes {m[1]}: {url} (the arm64 image gets an x86 "
                            "binary: exec format error)",
                            dockerfile.path,
                            ins.line,
                            fix="declare ARG TARGETARCH in the stage and use ${TARGETARCH} "
                            "(or map $(uname -m)) in the URL",
                        )
                    )
                    break
    return out


def check_platform_args(dockerfile: Dockerfile) -> list[Check]:
    """GVD004: a platform ARG read in a stage before (or without) ``ARG NAME`` in that stage."""
    out = []
    for stage in dockerfile.stages:
        declared: set[str] = set()
        reported: set[str] = set()
        for ins in stage.instructions:
            if ins.keyword == "ARG":
                for token in _split(ins.body):
                    declared.add(token.partition("=")[0])
                continue
            for m in _VAR.finditer(ins.content):
                name = m[1] or m[3]
                if name in PLATFORM_ARGS and name not in declared and name not in reported:
                    reported.add(name)
                    out.append(
                        Check(
                            "GVD004",
                            Severity.ERROR,
                            f"${name} is used in stage {stage.name or stage.index} without "
                            f"ARG {name} in that stage: it expands to an empty string",
                            dockerfile.path,
                            ins.line,
                            fix=f"add 'ARG {name}' after the stage's FROM line",
                        )
                    )
    return out


# curl short options that take an argument: a cluster ends at the first of them
_CURL_ARG_OPTS = set("ABCDEHKPQTUXYbcdeoruwxyzm")


def curl_fails_on_http_errors(argv: Sequence[str]) -> bool:
    """Pure: does this curl command line (argv[0] == "curl") pass --fail (or -f in a cluster)?"""
    skip = False
    for token in argv[1:]:
        if skip:
            skip = False
            continue
        if token in ("--fail", "--fail-with-body", "--fail-early"):
            return True
        if token.startswith("--"):
            continue
        if token.startswith("-") and len(token) > 1:
            for i, ch in enumerate(token[1:]):
                if ch == "f":
                    return True
                if ch in _CURL_ARG_OPTS:
                    skip = i == len(token) - 2  # the argument is the next word
                    break
    return False


def shell_commands(script: str) -> list[list[str]]:
    """Pure, approximate: the simple commands of a shell script (split on ; & | newlines)."""
    out: list[list[str]] = []
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|()")
        lexer.whitespace = " \t\r"
        lexer.wordchars += "$={}[]~.:/@%+,-*?!#"
        tokens = list(lexer)
    except ValueError:
        tokens = script.replace("\n", " ; ").split()
    current: list[str] = []
    for token in tokens:
        if token == "\n" or (token and set(token) <= set(";&|()")):
            if current:
                out.append(current)
            current = []
        else:
            current.append(token)
    if current:
        out.append(current)
    return out


def check_curl_fail(dockerfile: Dockerfile) -> list[Check]:
    """GVD005."""
    out = []
    for stage in dockerfile.stages:
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            script = re.sub(r"\\\n", " ", ins.content)
            for argv in shell_commands(script.replace("\n", " \n ")):
                words = [w for w in argv if w not in ("sudo", "exec", "then", "do", "else")]
                if words and words[0] == "curl" and not curl_fails_on_http_errors(words):
                    out.append(
                        Check(
                            "GVD005",
                            Severity.WARNING,
                            "curl without --fail: an HTTP error page (say, a 404 for the arm64 "
                            "artefact) is saved as if it were the file",
                            dockerfile.path,
                            ins.line,
                            fix="curl -fsSL (or --fail)",
                        )
                    )
                    break
    return out


@dataclass(frozen=True)
class RequirementsArg:
    """A ``pip install -r FILE`` line: FILE as written and the stage's base image."""

    name: str  # FILE, as the RUN line writes it
    path: str  # the Dockerfile, for the finding
    line: int
    base: str  # the image at the root of the stage's FROM chain


def requirements_args(dockerfile: Dockerfile, stages: Sequence[Stage]) -> list[RequirementsArg]:
    """The FILEs of ``pip install -r FILE`` (``--requirement``) in the stages' RUN steps."""
    out = []
    for stage in stages:
        base = root_base(dockerfile, stage)
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            for argv in shell_commands(ins.content.replace("\n", " \n ")):
                if "pip" not in " ".join(argv[:4]) or "install" not in argv:
                    continue
                for i, word in enumerate(argv):
                    name = None
                    if word in ("-r", "--requirement") and i + 1 < len(argv):
                        name = argv[i + 1]
                    elif word.startswith("--requirement="):
                        name = word.split("=", 1)[1]
                    elif word.startswith("-r") and len(word) > 2:
                        name = word[2:]
                    if name:
                        out.append(RequirementsArg(name, dockerfile.path, ins.line, base))
    return out


def root_base(dockerfile: Dockerfile, stage: Stage) -> str:
    """The registry image a stage ultimately builds on, following ``FROM <stage>`` chains."""
    seen = set()
    while True:
        parent = dockerfile.stage(stage.base)
        if parent is None or parent.index in seen or parent.index >= stage.index:
            return stage.base
        seen.add(stage.index)
        stage = parent


def check_all(
    dockerfile: Dockerfile, stages: Sequence[Stage], lookup: ImageLookup | None
) -> list[Check]:
    """GVD001-GVD005, the rules that read the Dockerfile itself; GVD001 (base images' indexes)
    only when a ``lookup`` is given. Used by ``graviton build`` and ``graviton gate`` alike."""
    found = [
        *check_constant_platform(dockerfile, stages),
        *check_x86_downloads(dockerfile, stages),
        *check_platform_args(dockerfile),
        *check_curl_fail(dockerfile),
    ]
    if lookup is not None:
        found += check_base_images(dockerfile, stages, lookup)
    return found
