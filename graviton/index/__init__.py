"""The package-index adapter: a PEP 691/503 client (``client``), page parsing (``parse``), the
derived-form page cache (``cache``) and what an index says (``model``). Below the capabilities:
it imports nothing of graviton but ``errors``."""

from graviton.index.cache import CacheEntry, PageCache, default_cache_dir
from graviton.index.client import DEFAULT_JOBS, PROJECTS_PER_WORKER, IndexClient
from graviton.index.model import (
    DistFile,
    IndexUnavailable,
    Packed,
    Project,
    ProjectReader,
    file_version,
    group_files,
)
from graviton.index.parse import parse_html_page, parse_json_page
from graviton.index.urls import PYPI, check_index_url, redact

__all__ = [
    "DEFAULT_JOBS",
    "PROJECTS_PER_WORKER",
    "PYPI",
    "CacheEntry",
    "DistFile",
    "IndexClient",
    "IndexUnavailable",
    "Packed",
    "PageCache",
    "Project",
    "ProjectReader",
    "check_index_url",
    "default_cache_dir",
    "file_version",
    "group_files",
    "parse_html_page",
    "parse_json_page",
    "redact",
]
