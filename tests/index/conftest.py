from tests.audit.conftest import dead_url, index

__all__ = ["dead_url", "index"]
