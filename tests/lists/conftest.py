"""Issue 13 (lists): the e2e stage and the points world, shared with tests/e2e and tests/points."""

from __future__ import annotations

from tests.e2e.conftest import admin, stage
from tests.points.conftest import world

__all__ = ["admin", "stage", "world"]
