"""Suite-wide plugins."""

pytest_plugins = ["tests.support.collect_guard"]
