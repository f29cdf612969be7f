"""``graviton gate``: what a pull request must pass before the Graviton move, as one CI step.

The audit of every lock and requirements file, the Dockerfile checks and the "image index has
linux/arm64" check, judged against one ``--fail-on`` and one ignore list, in one report
(:class:`graviton.findings.GateReport`, decided by :mod:`graviton.gate.model`), assembled by
:mod:`graviton.gate.run` from the files :mod:`graviton.gate.discover` finds.
"""
