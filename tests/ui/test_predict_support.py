"""Moved to tests/support/predict_page.py (no tests here); this name stays for modules that still import it."""

from tests.support.predict_page import (  # noqa: F401
    HOLDOUT,
    build_image,
    digits_image_fixture,
    digits_server_fixture,
    drop_files,
    drop_mime,
    holdout_digits,
    predict_window_fixture,
    settled,
    start_server,
    wait_target,
    write_digits,
)
