"""Test support shared by the shift, savings and gate tests: a moto server launcher and the
example ECS cluster builder (also used by ``examples/shift_demo.py`` and ``bench/shift.py``)."""
