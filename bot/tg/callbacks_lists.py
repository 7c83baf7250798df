"""Callback data of issue 13's lists: convenor batches, resources, service projects.

Ids and a short action only (64 bytes at most); every handler's service re-checks who may."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ConveneCb(CallbackData, prefix="cv"):
    """A convenor forwards their group's waiting declarations."""

    action: str  # fwd


class BatchCb(CallbackData, prefix="cvb"):
    """Staff verify a convenor's batch: approve all, one item (ok/no), or return it."""

    action: str  # all | ok | no | ret
    batch_id: int
    item: int = 0  # a declaration id for ok / no


class ResourceCb(CallbackData, prefix="rs"):
    """Staff switch a resource off or on (a listing's card)."""

    action: str  # off | on
    resource_id: int


class ProjectCb(CallbackData, prefix="pj"):
    """Staff mark a project's milestone done, or the project finished."""

    action: str  # ms | fin
    project_id: int
    item: int = 0  # a milestone id for ms
