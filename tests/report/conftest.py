"""Reports built by hand from the model: every verdict, ignores, an expired ignore, two Pythons,
a pin without a line, and text that needs escaping in every format."""

from __future__ import annotations

import datetime as dt

import pytest

from graviton.findings import (
    Finding,
    Fix,
    Ignore,
    Location,
    Manifest,
    Pin,
    Report,
    Target,
    Verdict,
)

GENERATED = dt.datetime(2026, 11, 27, 10, 0, 0, tzinfo=dt.UTC)
PY311 = Target(python=(3, 11), libc="glibc", libc_version=(2, 28))
PY312 = Target(python=(3, 12), libc="glibc", libc_version=(2, 28), name="al2023-ish")
REQ = "requirements.txt"
LOCK = "services/api/poetry.lock"

SHIOAJI_REASON = "no linux/aarch64 wheel: only x86_64 Linux and macOS arm64 wheels and no sdist"
# A reason with every character some format must escape: pipes, percent, colon, comma,
# a newline, markup, an ampersand, quotes, a rich markup tag and an XML-illegal control char.
NASTY_REASON = (
    'no linux/aarch64 wheel | 100% "sure": builds <gcc> & [bold]headers[/bold],\n'
    "needs *compiler* _now_ \x1b"
)
LEGACY_IGNORE = Ignore(
    name="legacy-sdk",
    reason="replaced by v2 in Q1, see <wiki> | OPS-12",
    expires=dt.date(2027, 3, 31),
)
EXPIRED = Ignore(
    name="shioaji",
    version="1.2.5",
    reason="vendor promised arm64 wheels",
    expires=dt.date(2026, 1, 31),
)


def pin(
    name: str,
    version: str | None,
    path: str,
    line: int | None,
    marker: str | None = None,
    url: str | None = None,
) -> Pin:
    spec = f"=={version}" if version else ""
    return Pin(name, version, Location(path, line), specifier=spec, marker=marker, url=url)


SHIOAJI = pin("shioaji", "1.2.5", REQ, 3)
NUMPY = pin("numpy", "1.26.4", REQ, 4)
REQUESTS = pin("requests", "2.32.3", REQ, 5)
PYWIN32 = pin("pywin32", "306", REQ, 6, marker='sys_platform == "win32"')
MKL = pin("mkl", "2024.0.0", REQ, 7, marker='platform_machine == "x86_64"')
PSYCOPG = pin("psycopg2", "2.9.9", REQ, 8)
LEGACY = pin("legacy-sdk", "0.9.0", REQ, 9)
MYLIB = pin(
    "mylib", None, REQ, 10, url="git+https://deploy:s3cret@git.example.com/acme/mylib.git@v1"
)
CRYPTO = pin("cryptography", "3.3.2", REQ, 11)
INTERNAL = pin("internal-lib", "0.3.1", LOCK, None)
ZOPE = pin("zope.interface", "6.0", LOCK, 40)

SHIOAJI_FIX = Fix(min="1.2.6", latest="1.7.9", crosses_major=False)
CRYPTO_FIX = Fix(min="41.0.0", latest="44.0.1", crosses_major=True)
PYPI = "https://pypi.org/simple/"


def findings_for(target: Target) -> list[Finding]:
    py = target.python_str.replace(".", "")
    return [
        Finding(SHIOAJI, target, Verdict.BLOCKED, SHIOAJI_REASON, SHIOAJI_FIX, index_url=PYPI),
        Finding(
            NUMPY,
            target,
            Verdict.NATIVE,
            "manylinux_2_17_aarch64 wheel",
            wheel=f"numpy-1.26.4-cp{py}-cp{py}-manylinux_2_17_aarch64.whl",
            index_url=PYPI,
        ),
        Finding(
            REQUESTS,
            target,
            Verdict.PURE,
            "platform-independent wheel",
            wheel="requests-2.32.3-py3-none-any.whl",
            index_url=PYPI,
        ),
        Finding(PYWIN32, target, Verdict.SKIPPED, f"marker is false on {target}"),
        Finding(MKL, target, Verdict.SKIPPED, "x86-only marker: not installed on linux/aarch64"),
        Finding(PSYCOPG, target, Verdict.SOURCE, NASTY_REASON, None, index_url=PYPI),
        Finding(
            LEGACY,
            target,
            Verdict.BLOCKED,
            "no linux/aarch64 wheel: only x86_64 Linux wheels and no sdist",
            None,
            index_url=PYPI,
            ignored=LEGACY_IGNORE,
        ),
        Finding(MYLIB, target, Verdict.SOURCE, "VCS checkout, not on an index"),
        Finding(ZOPE, target, Verdict.NATIVE, "manylinux_2_28_aarch64 wheel", wheel="z.whl"),
        Finding(INTERNAL, target, Verdict.UNKNOWN, f"not found on {PYPI}"),
    ]


def build_report(fail_on: Verdict = Verdict.BLOCKED, expired: bool = True) -> Report:
    findings = findings_for(PY311) + findings_for(PY312)
    findings.append(
        Finding(
            CRYPTO,
            PY312,
            Verdict.BLOCKED,
            "aarch64 wheels for cp36-abi3 need glibc 2.33",
            CRYPTO_FIX,
        )
    )
    findings.append(Finding(CRYPTO, PY311, Verdict.NATIVE, "abi3 wheel", wheel="c.whl"))
    findings.reverse()  # the formats must order them, not rely on the caller
    req_pins = (SHIOAJI, NUMPY, REQUESTS, PYWIN32, MKL, PSYCOPG, LEGACY, MYLIB, CRYPTO)
    return Report(
        targets=(PY311, PY312),
        manifests=(
            Manifest(REQ, "requirements", req_pins),
            Manifest(LOCK, "poetry.lock", (INTERNAL, ZOPE)),
        ),
        findings=tuple(findings),
        fail_on=fail_on,
        expired_ignores=(EXPIRED,) if expired else (),
        generated=GENERATED,
    )


def clean_report() -> Report:
    """Everything installs: the audit passes."""
    findings = tuple(f for f in findings_for(PY312) if f.verdict.severity == 0)
    return Report(
        targets=(PY312,),
        manifests=(Manifest(REQ, "requirements", tuple(f.pin for f in findings)),),
        findings=findings,
        generated=GENERATED,
    )


@pytest.fixture
def report() -> Report:
    return build_report()


@pytest.fixture
def passing() -> Report:
    return clean_report()
