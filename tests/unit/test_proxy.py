"""telegram.proxy: the bot reaches the Bot API through an HTTP (CONNECT) proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import make_bot
from bot.config import ConfigError, Settings, load_settings
from bot.fakeapi import FakeBotAPI


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class ConnectProxy:
    """The smallest HTTP CONNECT proxy: enough to see that the bot went through it."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.port = 0

    async def __aenter__(self) -> ConnectProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        method, target, _ = head.split("\r\n")[0].split(" ")
        assert method == "CONNECT"
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


async def test_bot_api_calls_go_through_the_configured_proxy(fake: FakeBotAPI) -> None:
    async with ConnectProxy() as proxy:
        settings = Settings.model_validate(
            {
                "telegram": {
                    "token": fake.token,
                    "api_base": fake.base_url,
                    "proxy": f"http://127.0.0.1:{proxy.port}",
                }
            }
        )
        bot = make_bot(settings)
        try:
            me = await bot.get_me()
        finally:
            await bot.session.close()
    assert me.id == fake.bot_user.id
    assert proxy.tunnels, "the request should have been tunnelled through the proxy"
    assert proxy.tunnels[0] == fake.base_url.removeprefix("http://").rstrip("/")


def test_an_unknown_proxy_scheme_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WISHBOT__TELEGRAM__PROXY", "ftp://10.0.0.1:21")
    with pytest.raises(ConfigError, match=r"telegram\.proxy"):
        load_settings(None)
