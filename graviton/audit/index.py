"""Moved to :mod:`graviton.index` (the package-index adapter, below the capabilities).

Kept as a re-export while ``audit.verdicts`` and the report formats still import from here.
"""

from graviton.index import *  # noqa: F403
from graviton.index import __all__  # noqa: F401
from graviton.index.model import normal_version, pack, unpack  # noqa: F401
