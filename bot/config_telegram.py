"""The Telegram side of the configuration: the token and the two ways updates arrive.

Split from bot/config.py (which re-exports both classes): ``[telegram]`` and ``[webhook]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# Update types a bot may name in allowed_updates (Bot API, Update object).
UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelegramConfig(Section):
    token: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    # polling: our own getUpdates loop; webhook: Telegram POSTs updates to [webhook] url.
    mode: Literal["polling", "webhook"] = "polling"
    request_timeout: float = Field(default=30.0, gt=0)
    polling_timeout: int = Field(default=25, ge=0, le=50)
    # Where Telegram is blocked: "http://host:port", "socks5://user:pass@host:port" (or socks4).
    proxy: str | None = None
    # The bot's @username without the @, for links printed before the bot runs (posters).
    username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "socks5://", "socks4://")):
            raise ValueError("use http://HOST:PORT, socks5://HOST:PORT or socks4://HOST:PORT")
        return value or None

    # Updates handled at once (different people; one person's updates go one at a time).
    max_concurrent_updates: int = Field(default=16, ge=1, le=1000)
    # On SIGTERM, seconds to let updates in progress finish; the rest are not confirmed to
    # the server, so they come again after the restart.
    drain_seconds: float = Field(default=10.0, ge=0)
    # Per-person throttle: past `throttle_burst` messages in `throttle_window_seconds`, the
    # person gets one notice and further text is ignored for `throttle_cooldown_seconds`.
    throttle_burst: int = Field(default=10, ge=1)
    throttle_window_seconds: float = Field(default=10.0, gt=0)
    throttle_cooldown_seconds: float = Field(default=30.0, ge=0)

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            bot_id, _, secret = value.get_secret_value().partition(":")
            if not bot_id.isdigit() or not secret:
                raise ValueError("looks wrong: BotFather's tokens look like 123456:ABC-def...")
        return value


class WebhookConfig(Section):
    """``telegram.mode = "webhook"``: Telegram POSTs every update to ``url``; each worker
    listens on ``host:port`` at ``path`` (behind nginx, which terminates https)."""

    # The public https address Telegram posts to (setWebhook at start), e.g.
    # "https://bot.example.org/tg/webhook"; its path should be `path` (nginx passes it on).
    url: str | None = None
    path: str = "/tg/webhook"
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)  # 0: any free port (tests)
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; a request without it gets 401.
    secret: SecretStr | None = None
    # Connections Telegram opens at once (1-100): updates delivered concurrently.
    max_connections: int = Field(default=40, ge=1, le=100)
    # Update types Telegram should send; empty: the types the bot's handlers use.
    allowed_updates: list[str] = Field(default_factory=list)
    # Hours a handled update_id is remembered, so a redelivery is recognised (with Redis).
    dedup_hours: float = Field(default=24.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL (Telegram posts only to https)")
        return value or None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value()
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if not 1 <= len(text) <= 256 or not set(text) <= allowed:
            raise ValueError("1-256 characters, only A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("allowed_updates")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - UPDATE_TYPES)
        if unknown:
            raise ValueError(f"unknown update type(s): {', '.join(unknown)}")
        return value
