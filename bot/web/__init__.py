"""The staff web dashboard (aiohttp, server-rendered Jinja2 pages, every asset local)."""
