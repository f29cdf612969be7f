"""The moto server and clusters of the other folders' tests: the shift's (reached through a
fault proxy) and the one ``graviton capacity`` is for."""

from __future__ import annotations

from tests.capacity.conftest import prod  # noqa: F401  (fixtures)
from tests.rollout.conftest import cluster, moto_url, proxy  # noqa: F401
from tests.savings.conftest import aws_env, moto  # noqa: F401
