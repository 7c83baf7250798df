"""FakeBotAPI: the HTTP face of the fake (aiohttp), plus the driver and observer mixins.

The real bot talks to it unchanged through `TelegramAPIServer.from_base(fake.base_url)`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from types import TracebackType
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.fakeapi.bot_methods import BotApi
from bot.fakeapi.driver import UserDriver
from bot.fakeapi.errors import ApiError
from bot.fakeapi.faults import DEFAULT_TIMEOUT_DELAY, FaultInjector, FaultPlan, max_in_any_window
from bot.fakeapi.observer import Observer
from bot.fakeapi.params import Params, Upload
from bot.fakeapi.records import Delivery, FakeUser
from bot.fakeapi.state import TelegramState
from bot.fakeapi.webhook import WebhookDelivery

DEFAULT_TOKEN = "123456:TEST-TOKEN"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for files a bot uploads


class FakeBotAPI(UserDriver, Observer):
    """A Telegram Bot API server on 127.0.0.1 with scripted users; one per test is cheap."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "wishbot_demo_bot",
        bot_name: str = "微心愿",
        *,
        enforce_limits: bool = False,
        privacy_mode: bool = False,
    ) -> None:
        bot_user = FakeUser(
            int(token.split(":", 1)[0]),
            bot_name,
            username=bot_username,
            language_code=None,
            is_bot=True,
        )
        self._token = token
        self._state = TelegramState(bot_user, privacy_mode=privacy_mode)
        self._api = BotApi(self._state)
        self._api.messaging.enforce_limits = enforce_limits
        self._faults = FaultInjector()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotAPI is already started")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._on_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._on_file)
        # handler_cancellation: when a client gives up (timeout, stopped polling), its
        # request handler is cancelled instead of lingering until shutdown.
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._state.stopping = False
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._state.stopping = True  # long polls and delayed answers return now
        self._state.signal.notify()
        await self._api.webhook.stop()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._base_url

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_user(self) -> FakeUser:
        return self._state.bot_user

    def make_bot(
        self, *, timeout: float = 60.0, default: DefaultBotProperties | None = None
    ) -> Bot:
        """An aiogram Bot pointed at this server (the caller closes its session)."""
        server = TelegramAPIServer.from_base(self.base_url)
        session = AiohttpSession(api=server, timeout=timeout)
        return Bot(self._token, session=session, default=default)

    # --- faults and rate measurements -----------------------------------------------------

    def set_faults(
        self,
        *,
        rate_429: float = 0.0,
        retry_after: int = 1,
        rate_403: float = 0.0,
        rate_400: float = 0.0,
        rate_5xx: float = 0.0,
        rate_timeout: float = 0.0,
        timeout_delay: float = DEFAULT_TIMEOUT_DELAY,
        seed: int = 0,
        methods: tuple[str, ...] = ("sendMessage", "sendPhoto"),
    ) -> None:
        """Each later call of one of `methods` draws once from random.Random(seed).

        A timeout fault delivers the message but answers only after `timeout_delay` s (or
        never, if the client disconnects first): the sender cannot know the outcome.
        """
        plan = FaultPlan(
            rate_429=rate_429,
            retry_after=retry_after,
            rate_403=rate_403,
            rate_400=rate_400,
            rate_5xx=rate_5xx,
            rate_timeout=rate_timeout,
            timeout_delay=timeout_delay,
            methods=methods,
        )
        self._faults.configure(plan, seed)

    def clear_faults(self) -> None:
        self._faults.configure(FaultPlan(), 0)

    @property
    def enforce_limits(self) -> bool:
        """Refuse with 429 past 30 msg/s overall, 1 msg/s per private chat, 20/min per group."""
        return self._api.messaging.enforce_limits

    @enforce_limits.setter
    def enforce_limits(self, value: bool) -> None:
        self._api.messaging.enforce_limits = value

    @property
    def webhook(self) -> WebhookDelivery:
        """Webhook delivery (after the bot's setWebhook): its settings and its counts."""
        return self._api.webhook

    @property
    def deliveries(self) -> list[Delivery]:
        """Every message accepted from the bot, in order: (ts monotonic, chat, id, method)."""
        return self._state.deliveries

    def delivery_counts(self) -> Counter[int]:
        """Messages accepted per chat id."""
        return Counter(delivery.chat_id for delivery in self._state.deliveries)

    def max_in_any_window(self, seconds: float = 1.0, chat_id: int | None = None) -> int:
        """The most deliveries (to `chat_id`, or anywhere) inside any `seconds`-long window."""
        times = [d.ts for d in self._state.deliveries if chat_id is None or d.chat_id == chat_id]
        return max_in_any_window(times, seconds)

    # --- HTTP -----------------------------------------------------------------------------

    async def _on_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._token:
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        handler = self._api.lookup(method)
        if handler is None:
            return _error(ApiError(404, "Not Found"))
        counted = method.lower() != "getupdates"  # a waiting long poll is not "activity"
        if counted:
            self._state.request_started()
        try:
            params = await _read_params(request)
            fault = self._faults.draw(method)
            if fault is not None and fault.error is not None:
                raise fault.error
            result = await handler(params)
            if fault is not None and fault.delay > 0:
                await self._hold(fault.delay)
            return web.json_response({"ok": True, "result": result}, dumps=_dumps)
        except ApiError as error:
            return _error(error)
        finally:
            if counted:
                self._state.request_finished()

    async def _on_file(self, request: web.Request) -> web.Response:
        stored = self._state.file_by_path(request.match_info["path"])
        if request.match_info["token"] != self._token or stored is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.content, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _hold(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._state.stopping and (remaining := deadline - time.monotonic()) > 0:
            await self._state.signal.wait(remaining)


async def _read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise ApiError(400, "Bad Request: can't parse JSON body") from error
            if isinstance(body, dict):
                values.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    values[key] = Upload(value.filename, value.file.read(), value.content_type)
                else:
                    values[key] = value
    return Params(values)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.code, dumps=_dumps)
