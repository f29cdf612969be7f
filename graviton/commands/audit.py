"""``graviton audit``: will every pinned dependency install on linux/aarch64?"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from graviton import config as cfg
from graviton.audit.platforms import (
    DEFAULT_PRESET,
    DEFAULT_PYTHON,
    PRESETS,
    parse_version_pair,
    preset,
)
from graviton.errors import UsageError
from graviton.findings import FAIL_ON_CHOICES, Ignore, Report, Target, Verdict
from graviton.index import DEFAULT_JOBS, PROJECTS_PER_WORKER
from graviton.report import FORMATS as FORMAT_CHOICES

if TYPE_CHECKING:
    from graviton.audit.run import AuditRequest
    from graviton.findings import GateReport

F = TypeVar("F", bound=Callable[..., Any])


def build_targets(
    pythons: tuple[str, ...],
    glibc: str | None,
    musl: str | None,
    target: str | None,
    dockerfile: Path | None,
    config: cfg.AuditConfig,
) -> tuple[Target, ...]:
    """One Target per Python, from flags first, then ``[tool.graviton.audit]``, then defaults."""
    chosen = [
        name
        for name, v in (
            ("--glibc", glibc),
            ("--musl", musl),
            ("--target", target),
            ("--dockerfile", dockerfile),
        )
        if v
    ]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be combined: pick one libc source")
    pythons = pythons or config.python
    py_pairs = [parse_version_pair(str(p), "--python") for p in pythons]
    if not chosen:
        glibc, musl = config.glibc, config.musl
        target = config.target or (None if glibc or musl else DEFAULT_PRESET)
    if dockerfile is not None:
        from graviton.audit.images import target_for_dockerfile

        found = target_for_dockerfile(dockerfile, py_pairs[0] if py_pairs else DEFAULT_PYTHON)
        if not py_pairs:
            return (found,)
        return tuple(
            Target(py, found.libc, found.libc_version, found.arch, found.name) for py in py_pairs
        )
    if not py_pairs:
        py_pairs = [DEFAULT_PYTHON]
    if glibc:
        version = parse_version_pair(str(glibc), "--glibc")
        return tuple(Target(python=py, libc="glibc", libc_version=version) for py in py_pairs)
    if musl:
        version = parse_version_pair(str(musl), "--musl")
        return tuple(Target(python=py, libc="musl", libc_version=version) for py in py_pairs)
    return tuple(preset(str(target), py) for py in py_pairs)


def render_report(report: Report | GateReport, fmt: str, output: Path | None) -> None:
    """Write the report where asked; append the GitHub step summary when running in Actions."""
    from graviton import report as formats

    to_terminal = output is None and sys.stdout.isatty()
    text = formats.render(report, fmt, color=to_terminal, width=None)
    if output is not None:
        try:
            output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write --output {output}: {exc.strerror}") from None
        counts = ", ".join(f"{n} {v}" for v, n in report.counts().items() if n)
        click.echo(f"graviton: wrote {fmt} to {output} ({counts or 'no packages'})", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    formats.append_step_summary(report)


class Progress:
    """A rich progress bar on a terminal's stderr; nothing otherwise."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("reading the index"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("index", total=None)
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


# The flags `graviton audit` and `graviton gate` share (the gate's --dockerfile means something
# else: the Dockerfiles to check, so it is not among them).
_SHARED_OPTIONS = (
    click.option(
        "--python",
        "pythons",
        multiple=True,
        metavar="X.Y",
        help=f"Target Python; repeat for one verdict per Python. "
        f"[default: {DEFAULT_PYTHON[0]}.{DEFAULT_PYTHON[1]}]",
    ),
    click.option("--glibc", metavar="X.Y", help="Target glibc version (e.g. 2.28)."),
    click.option("--musl", metavar="X.Y", help="Target musl version (e.g. 1.2): musllinux wheels."),
    click.option(
        "--target",
        type=click.Choice(sorted(PRESETS)),
        help=f"Target distribution preset. [default: {DEFAULT_PRESET} = glibc "
        f"{'.'.join(map(str, PRESETS[DEFAULT_PRESET][1]))}]",
    ),
    click.option("--index-url", "-i", envvar="PIP_INDEX_URL", help="Base URL of the simple index."),
    click.option(
        "--extra-index-url",
        multiple=True,
        help="More indexes (files are merged, as pip does). Also PIP_EXTRA_INDEX_URL.",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Index page cache. [default: the user cache dir, or GRAVITON_CACHE_DIR]",
    ),
    click.option("--no-cache", is_flag=True, help="Neither read nor write the cache."),
    click.option("--offline", is_flag=True, help="Answer from the cache only; a miss is exit 3."),
    click.option(
        "--no-inspect",
        is_flag=True,
        help="Do not look inside pure wheels for x86 programs (range reads, <= 4 MiB a wheel).",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMAT_CHOICES),
        help="Output format. [default: table on a terminal, text otherwise]",
    ),
    click.option(
        "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="Write here."
    ),
    click.option(
        "--fail-on",
        type=click.Choice([v.value for v in FAIL_ON_CHOICES]),
        help="Exit 1 on a finding at or above this (blocked > unknown > source). "
        "[default: blocked]",
    ),
    click.option(
        "--ignore",
        "ignores",
        multiple=True,
        metavar="NAME[==VER]:YYYY-MM-DD:REASON",
        help="Accept a finding until a date, with a reason. Expired entries fail.",
    ),
    click.option(
        "--no-resolve",
        is_flag=True,
        help="Do not resolve unpinned requirements with pip-tools (they are reported 'unknown').",
    ),
    click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 64),
        default=None,
        help=f"Concurrent index reads (worker processes). Default: two per CPU, up to "
        f"{DEFAULT_JOBS} for big locks (one more per {PROJECTS_PER_WORKER} projects).",
    ),
    click.option(
        "--timeout",
        metavar="DURATION",
        default="10m",
        show_default=True,
        help="Deadline for all the index reads of the run; one page gets at most 1m of it. "
        "Past it: exit 3.",
    ),
)


def shared_options(func: F) -> F:
    """click decorator: the audit flags ``graviton gate`` shares with ``graviton audit``."""
    for option in reversed(_SHARED_OPTIONS):
        func = option(func)
    return func


def audit_request(
    config: cfg.AuditConfig,
    *,
    paths: tuple[Path, ...],
    pythons: tuple[str, ...],
    glibc: str | None,
    musl: str | None,
    target: str | None,
    dockerfile: Path | None,
    index_url: str | None,
    extra_index_url: tuple[str, ...],
    cache_dir: Path | None,
    no_cache: bool,
    offline: bool,
    fail_on: str | None,
    ignores: tuple[str, ...],
    no_resolve: bool,
    jobs: int | None,
    timeout: str = "10m",
    no_inspect: bool = False,
) -> AuditRequest:
    """The audit's settings from its flags, then ``config`` (a ``[tool.graviton]`` section)."""
    from graviton.audit.run import AuditRequest, env_index_urls
    from graviton.index import check_index_url, default_cache_dir
    from graviton.timeutil import parse_duration

    if no_cache and offline:
        raise UsageError("--offline answers from the cache: it cannot be combined with --no-cache")
    if offline:  # pip-compile, run for unpinned inputs, reads no index either (pip's own switch)
        os.environ["PIP_NO_INDEX"] = "1"
    settings = config
    targets = build_targets(pythons, glibc, musl, target, dockerfile, settings)
    _, env_extras = env_index_urls()
    extras = tuple(dict.fromkeys(extra_index_url + env_extras))
    entries = [*settings.ignore, *(cfg.parse_ignore_flag(text) for text in ignores)]
    ignore_list = [Ignore.of(entry) for entry in entries]
    fail = Verdict(fail_on or settings.fail_on or Verdict.BLOCKED.value)
    index_url = index_url or settings.index_url
    for url, what in [(index_url, "--index-url"), *((u, "--extra-index-url") for u in extras)]:
        if url:
            check_index_url(url, what)
    try:
        seconds = parse_duration(timeout)
    except UsageError as exc:
        raise UsageError(f"--timeout: {exc}") from None
    return AuditRequest(
        paths=paths,
        targets=targets,
        index_url=index_url,
        extra_index_urls=extras,
        cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
        offline=offline,
        fail_on=fail,
        ignores=tuple(ignore_list),
        resolve=not no_resolve,
        workers=jobs or DEFAULT_JOBS,
        processes=jobs,
        timeout=seconds,
        inspect=not no_inspect,
    )


def choose_format(fmt: str | None, config: cfg.AuditConfig) -> str:
    """--format, else the config's ``format``, else table on a terminal and text otherwise."""
    chosen = fmt or config.format or ("table" if sys.stdout.isatty() else "text")
    if chosen not in FORMAT_CHOICES:
        raise UsageError(f"format {chosen!r} is not one of {', '.join(FORMAT_CHOICES)}")
    return str(chosen)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@shared_options
@click.option(
    "--dockerfile",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Take Python and libc from the final stage's FROM (known images only).",
)
def audit(
    paths: tuple[Path, ...],
    dockerfile: Path | None,
    fmt: str | None,
    output: Path | None,
    **options: Any,
) -> None:
    """Decide, for every pinned package, whether it installs on linux/aarch64.

    PATHS are lock or requirements files (requirements.txt / .in, poetry.lock, uv.lock,
    Pipfile.lock, pylock.toml, pyproject.toml) or directories; none means the current directory.

    \b
    Verdicts: native (aarch64 wheel), pure (platform-independent wheel), source (sdist only:
    builds on the target), blocked (nothing installs), unknown (not on the index), skipped
    (environment marker false on the target).

    \b
    Exit codes: 0 pass, 1 a finding at or above --fail-on (or an expired ignore entry),
    2 usage or unreadable input, 3 the index could not be read, or a pure wheel could not be
    looked into (--no-inspect skips that).
    """
    from graviton.audit.run import audit as run_audit
    from graviton.collector import settle

    settle()
    config = cfg.load_config(paths[0] if paths else None).audit
    request = audit_request(config, paths=paths, dockerfile=dockerfile, **options)
    with Progress() as progress:
        report = run_audit(request, progress=progress)
    render_report(report, choose_format(fmt, config), output)
    click.get_current_context().exit(report.exit_code)
