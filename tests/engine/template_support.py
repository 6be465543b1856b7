"""Moved to tests/support/templates.py; this name stays for modules that still import it."""

from tests.support.templates import (  # noqa: F401
    CACHE_REPO,
    CREATED,
    build_template,
    dependency_step,
    engine,
    free_port,
    http,
    keep_dependency_cache,
    rebuild,
    run_container,
    wait_for,
)
