"""Fixtures of the page tests: `reader` and `reader_client` come from tests/conftest.py."""
