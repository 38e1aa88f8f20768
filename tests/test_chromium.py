"""The browser the browser tests drive. Kept in a module of its own (nothing heavy imported) so
tests/test_faults.py can run it in a subprocess with chromium pointed at a missing path."""

from pathlib import Path


def test_chromium_fixture(chromium: Path):
    assert chromium.is_file()
