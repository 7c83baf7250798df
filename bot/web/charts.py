"""Charts as server-side SVG (pygal): no JavaScript, no CDN, nothing but configuration here.

Each chart is served as its own SVG file (an <img> on the page), so the page's strict CSP
stays strict, and an accessible table with the same numbers sits under every chart.
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence

import pygal
from pygal.style import DarkStyle, DefaultStyle, Style

_SCRIPT = re.compile(rb"<script[^>]*>.*?</script>", re.S)
FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif"


def _style(dark: bool) -> Style:
    base = DarkStyle if dark else DefaultStyle
    return base(
        font_family=FONT,
        label_font_size=14,
        major_label_font_size=14,
        legend_font_size=15,
        title_font_size=18,
        value_font_size=14,
        background="transparent",
        plot_background="transparent",
    )


def _config(dark: bool, title: str, no_data: str) -> pygal.Config:
    config = pygal.Config()
    config.no_data_text = no_data
    config.js = []  # no tooltips script: nothing loaded from anywhere
    config.css = ["file://style.css", "file://graph.css"]  # pygal's own, inlined in the SVG
    config.style = _style(dark)
    config.title = title
    config.width, config.height = 720, 360
    config.show_legend = True
    config.legend_at_bottom = True
    config.print_values = True
    config.margin = 12
    config.truncate_label = -1  # whole category names, never '…'
    return config


def bar(
    title: str, labels: Sequence[str], values: Sequence[float], no_data: str, dark: bool = False
) -> bytes:
    return _bar(title, tuple(labels), tuple(values), no_data, dark)


# Rendering is pure: the same numbers give the same picture, so a picture is kept by its data
# (never stale) and pygal runs only when a figure changed.
@functools.lru_cache(maxsize=64)
def _bar(
    title: str, labels: tuple[str, ...], values: tuple[float, ...], no_data: str, dark: bool
) -> bytes:
    config = _config(dark, title, no_data)
    # pygal sizes the label column for Latin letters; a CJK character is about twice as wide.
    config.margin_left = 12 + 8 * max((len(label) for label in labels), default=0)
    chart = pygal.HorizontalBar(config)
    chart.show_legend = False
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    return _no_script(chart.render())


def grouped_bar(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    no_data: str,
    dark: bool = False,
) -> bytes:
    config = _config(dark, title, no_data)
    config.width, config.height = 1400, 380
    chart = pygal.Bar(config)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _no_script(chart.render())


def trend(
    title: str,
    days: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    no_data: str,
    dark: bool = False,
) -> bytes:
    frozen = tuple((name, tuple(values)) for name, values in series)
    return _trend(title, tuple(days), frozen, no_data, dark)


@functools.lru_cache(maxsize=64)
def _trend(
    title: str,
    days: tuple[str, ...],
    series: tuple[tuple[str, tuple[int, ...]], ...],
    no_data: str,
    dark: bool,
) -> bytes:
    config = _config(dark, title, no_data)
    config.width, config.height = 1400, 380
    config.print_values = False
    config.x_label_rotation = 30
    config.show_minor_x_labels = False
    chart = pygal.Line(config)
    chart.x_labels = list(days)
    chart.x_labels_major_every = max(1, len(days) // 8)
    for name, values in series:
        chart.add(name, list(values))
    return _no_script(chart.render())


def _no_script(svg: bytes) -> bytes:
    """pygal always writes its tooltip config as an inline script; a picture needs none."""
    return _SCRIPT.sub(b"", bytes(svg))


class ChartStore:
    """Rendered SVGs kept briefly under unguessable ids, fetched by the page's <img> tags."""

    def __init__(self, ttl: float = 300.0, limit: int = 500) -> None:
        self.ttl, self.limit = ttl, limit
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def put(self, svg: bytes) -> str:
        now = time.monotonic()
        while self._items and (
            len(self._items) >= self.limit or next(iter(self._items.values()))[0] < now
        ):
            self._items.popitem(last=False)
        key = secrets.token_urlsafe(16)
        self._items[key] = (now + self.ttl, svg)
        return key

    def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]
