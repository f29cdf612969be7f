"""Test support: the real parts the tests, ``make demo`` and the benches run against.

- ``moto_server``: a moto server process on a free 127.0.0.1 port; ``fault_proxy``: a proxy in
  front of it that rejects, delays, holds or rewrites chosen operations; ``cli``: the graviton
  CLI as a separate process, its JSON events streamed.
- ``cluster``: the parts of an ECS cluster on moto (``client``, ``push_image``, ``make_service``,
  ``register_instances``, ``make_alarms``) and ``make_cluster``, the example cluster of the shift
  and savings tests and ``bench/shift.py``. ``examples/shift_demo.py`` and the capacity tests
  build their own cluster (one x86 provider, AMIs from moto's SSM parameters) from the parts.
- ``placement``: ECS placing tasks by capacity provider, which moto does not do (shift tests,
  bench, demo).
- ``range_server``, ``native_headers``: a file host that answers range requests, and byte-exact
  native file headers, for the audit, checks, index and image tests.
- ``quiet_http``: the request handler the test servers and proxies build on (no log line per
  request).
- ``collect_guard``: the pytest plugin that fails a whole-suite run when a test file was not
  collected.
"""
