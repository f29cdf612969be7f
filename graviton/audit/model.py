"""The audit's data model moved to :mod:`graviton.findings` (the shared model ``report`` renders).

Kept only while ``graviton/audit/run.py`` and ``graviton/commands/audit.py`` still import from
here; they switch to ``graviton.findings`` and this module goes.
"""

from graviton.findings import (
    FAIL_ON_CHOICES as FAIL_ON_CHOICES,
)
from graviton.findings import (
    Finding as Finding,
)
from graviton.findings import (
    Ignore as Ignore,
)
from graviton.findings import (
    Manifest as Manifest,
)
from graviton.findings import (
    Pin as Pin,
)
from graviton.findings import (
    Report as Report,
)
from graviton.findings import (
    Target as Target,
)
from graviton.findings import (
    Verdict as Verdict,
)
