"""A pytest plugin: a whole-suite run fails when a ``test_*.py`` file under the test roots was not
collected.

pytest skips folders silently (its default ``norecursedirs`` holds ``build``, ``dist``, ``.*`` and
more; a conftest may ignore paths), so a test file can exist and never run. When pytest is run on
its configured ``testpaths`` (no file or folder named on the command line) every ``test_*.py``
below them, outside ``fixtures/`` folders, must have been collected; otherwise the session ends
with exit code 4 naming the files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_KEY = pytest.StashKey[set[Path]]()


def expected_files(roots: list[Path]) -> set[Path]:
    """Every test module below ``roots``, fixtures folders left out."""
    found: set[Path] = set()
    for root in roots:
        for path in root.rglob("test_*.py"):
            if "fixtures" not in path.relative_to(root).parts:
                found.add(path.resolve())
    return found


def _whole_suite(config: pytest.Config) -> list[Path] | None:
    """The test roots when this is a whole-suite run, else None."""
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return None
    return [Path(config.rootpath, p).resolve() for p in config.getini("testpaths")]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    # before -m/-k deselection, so a marker filter does not count as a lost file
    session.stash[_KEY] = {item.path.resolve() for item in items}


def pytest_collection_finish(session: pytest.Session) -> None:
    roots = _whole_suite(session.config)
    if roots is None:
        return
    lost = sorted(expected_files(roots) - session.stash.get(_KEY, set()))
    if lost:
        names = ", ".join(str(p.relative_to(session.config.rootpath)) for p in lost)
        raise pytest.UsageError(f"test files that pytest never collected: {names}")
