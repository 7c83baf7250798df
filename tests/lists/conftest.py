"""Issue 13 (lists): the e2e stage fixtures, shared with tests/e2e."""

from __future__ import annotations

from tests.e2e.conftest import admin, stage

__all__ = ["admin", "stage"]
