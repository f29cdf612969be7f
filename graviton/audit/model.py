"""The audit's data model moved to :mod:`graviton.findings` (the shared model ``report`` renders).

Kept only while ``graviton/audit/run.py`` and ``graviton/commands/audit.py`` (changed in
parallel) still import from here: they switch to ``graviton.findings`` and this module goes.
"""

from graviton.findings import (
    FAIL_ON_CHOICES,
    SCHEMA_VERSION,
    Finding,
    Fix,
    Ignore,
    Location,
    Manifest,
    Pin,
    Report,
    Target,
    Verdict,
    same_version,
)

__all__ = [
    "FAIL_ON_CHOICES",
    "SCHEMA_VERSION",
    "Finding",
    "Fix",
    "Ignore",
    "Location",
    "Manifest",
    "Pin",
    "Report",
    "Target",
    "Verdict",
    "same_version",
]
