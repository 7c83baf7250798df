"""Issue 13 (lists): fixtures shared with tests/e2e (the stage), tests/points (the points
world) and tests/web (the dashboard's community)."""

from __future__ import annotations

from tests.e2e.conftest import admin, stage
from tests.points.conftest import both, world
from tests.web.conftest import web

__all__ = ["admin", "both", "stage", "web", "world"]
