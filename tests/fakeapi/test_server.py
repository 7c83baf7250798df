"""The fake Bot API, driven by a real aiogram Bot (and Dispatcher) over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from bot.fakeapi import FakeBotAPI
from bot.fakeapi.entities import parse_html
from bot.fakeapi.errors import ApiError
from bot.fakeapi.faults import max_in_any_window
from bot.fakeapi.images import tiny_png

ALICE = 1001
GROUP = -100777


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.user(ALICE, "Alice", username="alice")
        yield server


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    client = fake.make_bot()
    yield client
    await _close(client)


async def _close(client: Bot) -> None:
    # AiohttpSession.close() sleeps 250 ms for TLS shutdown; plain HTTP needs none of it.
    session = client.session._session  # type: ignore[attr-defined]
    if session is not None:
        await session.close()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


async def outcome(call: Awaitable[Any]) -> str:
    try:
        await call
    except TelegramRetryAfter as error:
        return f"429/{error.retry_after}"
    except TelegramForbiddenError:
        return "403"
    except TelegramBadRequest:
        return "400"
    except TelegramServerError:
        return "5xx"
    return "ok"


# --- identity and plain messages -----------------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (
        123456,
        True,
        "wishbot_demo_bot",
        "微心愿",
    )


async def test_sent_message_is_read_back_with_its_buttons(fake: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE, "新心愿 #12", reply_markup=keyboard([("认领", "claim:12"), ("忽略", "skip:12")])
    )
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.chat.type == "private" and sent.chat.first_name == "Alice"
    assert sent.reply_markup is not None
    shown = fake.last(ALICE)
    assert shown.message_id == sent.message_id
    assert shown.text == "新心愿 #12"
    assert [[b.data for b in row] for row in shown.buttons] == [["claim:12", "skip:12"]]
    assert not shown.edited and not shown.deleted


async def test_message_ids_are_shared_by_user_and_bot_in_a_chat(fake: FakeBotAPI, bot: Bot) -> None:
    first = await bot.send_message(ALICE, "一")
    user_id = await fake.send_text(fake.user(ALICE, "Alice"), "二")
    third = await bot.send_message(ALICE, "三", reply_to_message_id=user_id)
    assert (first.message_id, user_id, third.message_id) == (1, 2, 3)
    assert third.reply_to_message is not None and third.reply_to_message.text == "二"


async def test_html_is_stripped_to_utf16_entities(fake: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE, "😀 <b>微心愿</b> &lt;3 <a href='https://x.org'>链接</a>", parse_mode="HTML"
    )
    assert sent.text == "😀 微心愿 <3 链接"
    entities = [(e.type, e.offset, e.length) for e in sent.entities or []]
    assert entities == [("bold", 3, 3), ("text_link", 10, 2)]  # the emoji is 2 UTF-16 units
    assert fake.last(ALICE).raw_text.startswith("😀 <b>")


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink"'),
        ("1 < 2", "start tag at byte offset 2"),
        ("<b>x</i>", "Unmatched end tag"),
    ],
)
async def test_bad_html_is_refused_like_telegram(bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
        await bot.send_message(ALICE, html, parse_mode="HTML")
    assert reason in caught.value.message


def test_pre_code_language_becomes_one_pre_entity() -> None:
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


async def test_text_limits(bot: Bot) -> None:
    assert (await bot.send_message(ALICE, "字" * 4096)).text == "字" * 4096
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "字" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE, "  ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE, "<b></b>", parse_mode="HTML")


async def test_callback_data_is_limited_to_64_bytes_not_characters(bot: Bot) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=keyboard([("a", "x" * 64)]))
    await bot.send_message(ALICE, "ok", reply_markup=keyboard([("b", "认" * 21)]))  # 63 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard([("c", "认" * 22)]))  # 66


async def test_unknown_chat_and_missing_reply_target_are_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ALICE, "hello", reply_to_message_id=99)


# --- edits and deletions -------------------------------------------------------------------


async def test_edit_changes_text_and_keyboard(fake: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "待认领", reply_markup=keyboard([("认领", "claim:1")]))
    marker = fake.mark()
    edited = await bot.edit_message_text("已被认领", chat_id=ALICE, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.edit_date is not None
    now = fake.last(ALICE)
    assert (now.text, now.buttons, now.edited) == ("已被认领", [], True)
    assert (await fake.expect(ALICE, "已被认领", after=marker)).message_id == sent.message_id


async def test_edit_to_identical_content_is_not_modified(bot: Bot) -> None:
    markup = keyboard([("认领", "claim:1")])
    sent = await bot.send_message(ALICE, "同样", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "同样", chat_id=ALICE, message_id=sent.message_id, reply_markup=markup
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ALICE, message_id=sent.message_id, reply_markup=markup
        )


async def test_edit_or_delete_of_a_missing_message_is_refused(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=77)
    sent = await bot.send_message(ALICE, "临时")
    assert await bot.delete_message(ALICE, sent.message_id)
    assert fake.messages(ALICE)[-1].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=sent.message_id)


async def test_a_users_message_cannot_be_edited_by_the_bot(fake: FakeBotAPI, bot: Bot) -> None:
    user_message = await fake.send_text(fake.user(ALICE, "Alice"), "我的话")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("改掉", chat_id=ALICE, message_id=user_message)


# --- blocking ------------------------------------------------------------------------------


async def test_blocked_user_gives_403_until_unblocked(fake: FakeBotAPI, bot: Bot) -> None:
    fake.block(ALICE)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "还在吗")
    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    fake.unblock(ALICE)
    assert (await bot.send_message(ALICE, "欢迎回来")).text == "欢迎回来"


# --- updates -------------------------------------------------------------------------------


async def test_long_poll_returns_early_on_a_user_message_and_respects_offset(
    fake: FakeBotAPI, bot: Bot
) -> None:
    alice = fake.user(ALICE, "Alice")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await fake.wait_for(lambda: fake.bot_is_polling)
    await fake.send_text(alice, "/start")
    updates = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 5  # far below the 20 s long-poll timeout
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.entities is not None and message.entities[0].type == "bot_command"

    await fake.send_text(alice, "第二条")
    again = await bot.get_updates(timeout=0)  # nothing confirmed yet: both come back
    assert [u.update_id for u in again] == [updates[0].update_id, updates[0].update_id + 1]
    confirmed = await bot.get_updates(offset=again[-1].update_id, timeout=0)
    assert [u.update_id for u in confirmed] == [again[-1].update_id]
    assert await bot.get_updates(offset=again[-1].update_id + 1, timeout=0) == []


async def test_allowed_updates_drop_other_update_types(fake: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(ALICE, "选", reply_markup=keyboard([("是", "yes")]))
    alice = fake.user(ALICE, "Alice")
    await fake.press(alice, ALICE, text="是")
    await fake.send_text(alice, "文字")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message is not None for u in updates] == [True]


async def test_a_second_poller_terminates_the_first_with_409(fake: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await fake.wait_for(lambda: fake.bot_is_polling)
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 5)


async def test_user_media_arrive_as_valid_updates(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(ALICE, "Alice")
    await fake.send_contact(alice, "+8613800000000")
    await fake.send_photo(alice, "漏水照片")
    await fake.send_document(alice, "清单.csv", b"a,b\n")
    await fake.send_voice(alice)
    await fake.send_sticker(alice)
    contact, photo, document, voice, sticker = [u.message for u in await bot.get_updates()]
    assert contact and contact.contact and contact.contact.user_id == ALICE
    assert photo and photo.photo and photo.caption == "漏水照片"
    assert document and document.document and document.document.file_name == "清单.csv"
    assert voice and voice.voice and sticker and sticker.sticker
    downloaded = await bot.download(photo.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == tiny_png()


# --- buttons and callback queries ----------------------------------------------------------


async def test_press_sends_a_callback_query_whose_answer_is_recorded(
    fake: FakeBotAPI, bot: Bot
) -> None:
    sent = await bot.send_message(ALICE, "#5", reply_markup=keyboard([("认领 #5", "claim:5")]))
    query_id = await fake.press(fake.user(ALICE, "Alice"), ALICE, text="认领")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "claim:5"
    assert query.message is not None and query.message.message_id == sent.message_id
    await bot.answer_callback_query(query_id, text="已认领", show_alert=True)
    answer = fake.answer_for(query_id)
    assert answer is not None and (answer.text, answer.show_alert) == ("已认领", True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")


async def test_press_explains_what_was_there_when_the_button_is_missing(
    fake: FakeBotAPI, bot: Bot
) -> None:
    alice = fake.user(ALICE, "Alice")
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await fake.press(alice, ALICE, text="认领")
    url_button = InlineKeyboardButton(text="说明", url="https://example.org")
    await bot.send_message(
        ALICE,
        "#6",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="认领", callback_data="c:6"), url_button]]
        ),
    )
    with pytest.raises(AssertionError, match=r"'认领' data='c:6'"):
        await fake.press(alice, ALICE, text="拒绝")
    with pytest.raises(AssertionError, match="URL button"):
        await fake.press(alice, ALICE, text="说明")


# --- files ---------------------------------------------------------------------------------


async def test_sent_document_bytes_can_be_read_back(fake: FakeBotAPI, bot: Bot) -> None:
    content = "编号,类别\n1,维修\n".encode()
    sent = await bot.send_document(ALICE, BufferedInputFile(content, "report.csv"), caption="月报")
    assert sent.document is not None and sent.document.mime_type == "text/csv"
    shown = fake.last(ALICE)
    assert (shown.document, shown.filename, shown.text) == (content, "report.csv", "月报")
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == content


async def test_photo_must_be_an_image(fake: FakeBotAPI, bot: Bot) -> None:
    png = tiny_png(7, 5)
    sent = await bot.send_photo(ALICE, BufferedInputFile(png, "qr.png"), caption="签到码")
    assert sent.photo is not None and (sent.photo[-1].width, sent.photo[-1].height) == (7, 5)
    assert fake.last(ALICE).photo == png
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(ALICE, BufferedInputFile(png, "qr.png"), caption="长" * 1025)


# --- faults and rate limits ----------------------------------------------------------------


async def test_fault_injection_gives_429_with_retry_after(fake: FakeBotAPI, bot: Bot) -> None:
    fake.set_faults(rate_429=1.0, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "广播")
    assert caught.value.retry_after == 7
    assert fake.deliveries == [] and fake.messages(ALICE) == []
    assert (await bot.get_me()).is_bot  # only the listed methods draw faults


async def test_faults_are_reproducible_with_a_seed(fake: FakeBotAPI, bot: Bot) -> None:
    settings: dict[str, Any] = {"rate_429": 0.3, "rate_403": 0.2, "rate_5xx": 0.2, "seed": 7}
    fake.set_faults(**settings)
    first = [await outcome(bot.send_message(ALICE, f"#{n}")) for n in range(40)]
    fake.set_faults(**settings)
    second = [await outcome(bot.send_message(ALICE, f"#{n}")) for n in range(40)]
    assert first == second
    assert {"ok", "429/1", "403", "5xx"} <= set(first)
    assert len(fake.deliveries) == 2 * first.count("ok")


async def test_timeout_fault_delivers_but_the_client_cannot_know(fake: FakeBotAPI) -> None:
    impatient = fake.make_bot(timeout=0.3)
    try:
        fake.set_faults(rate_timeout=1.0, timeout_delay=30)
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await impatient.send_message(ALICE, "到底发出去没有")
        assert fake.last(ALICE).text == "到底发出去没有"
        assert len(fake.deliveries) == 1
        # The held answer is cancelled when the client hangs up, not kept for 30 s.
        await fake.settle(timeout=5)
    finally:
        await _close(impatient)


async def test_enforced_limits_refuse_a_second_message_per_second(
    fake: FakeBotAPI, bot: Bot
) -> None:
    fake.enforce_limits = True
    bob = fake.user(1002, "Bob")
    await bot.send_message(ALICE, "一")
    await bot.send_message(bob.id, "一")  # another chat is not limited by Alice's
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "二")
    assert caught.value.retry_after == 1
    assert fake.max_in_any_window(1.0, chat_id=ALICE) == 1
    assert fake.delivery_counts() == {ALICE: 1, bob.id: 1}


def test_max_in_any_window_counts_the_densest_second() -> None:
    assert max_in_any_window([0.0, 0.5, 0.99, 1.0, 1.2, 3.0], 1.0) == 4  # 0.5 .. 1.2
    assert max_in_any_window([], 1.0) == 0


# --- chats, members, commands --------------------------------------------------------------


async def test_chat_members_and_group_commands(fake: FakeBotAPI, bot: Bot) -> None:
    alice = fake.user(ALICE, "Alice")
    staff = fake.user(1003, "Staff")
    outsider = fake.user(1002, "Bob")
    fake.group(GROUP, "幸福里网格群", creator=staff)
    fake.set_member(GROUP, ALICE, "member")
    statuses = [
        (await bot.get_chat_member(GROUP, user_id)).status
        for user_id in (staff.id, ALICE, fake.bot_user.id, outsider.id)
    ]
    assert statuses == ["creator", "member", "administrator", "left"]
    chat = await bot.get_chat(GROUP)
    assert (chat.type, chat.title) == ("supergroup", "幸福里网格群")

    await fake.send_text(alice, "/claim@wishbot_demo_bot 12", chat_id=GROUP)
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.entities is not None
    assert update.message.entities[0].length == len("/claim@wishbot_demo_bot")


async def test_commands_are_stored_per_scope_and_language(fake: FakeBotAPI, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="开始")]
    await bot.set_my_commands(commands, language_code="zh")
    await bot.set_my_commands(
        [BotCommand(command="review", description="Review")],
        scope=BotCommandScopeChat(chat_id=ALICE),
        language_code="en",
    )
    stored = await bot.get_my_commands(language_code="zh")
    assert [(c.command, c.description) for c in stored] == [("start", "开始")]
    assert [c.command for c in fake.commands[(f"chat:{ALICE}", "en")]] == ["review"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_reply_keyboards_are_seen_by_the_driver_but_not_echoed(
    fake: FakeBotAPI, bot: Bot
) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]], resize_keyboard=True
    )
    sent = await bot.send_message(ALICE, "请分享手机号", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert fake.last(ALICE).keyboard == [["分享手机号"]]


async def test_privacy_mode_hides_plain_group_chatter_from_a_non_admin_bot() -> None:
    async with FakeBotAPI(privacy_mode=True) as fake:
        alice = fake.user(ALICE, "Alice")
        fake.group(GROUP, "网格群")
        fake.set_member(GROUP, fake.bot_user.id, "member")
        bot = fake.make_bot()
        try:
            assert not (await bot.get_me()).can_read_all_group_messages
            await fake.send_text(alice, "大家好", chat_id=GROUP)
            await fake.send_text(alice, "/help", chat_id=GROUP)
            texts = [u.message.text for u in await bot.get_updates() if u.message]
            assert texts == ["/help"]
        finally:
            await _close(bot)


async def test_an_active_webhook_blocks_polling(fake: FakeBotAPI, bot: Bot) -> None:
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await fake.send_text(fake.user(ALICE, "Alice"), "排队中")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


async def test_on_event_receives_a_readable_transcript(fake: FakeBotAPI, bot: Bot) -> None:
    lines: list[str] = []
    fake.on_event = lambda event: lines.append(event.describe())
    await fake.send_text(fake.user(ALICE, "Alice"), "你好")
    await bot.send_message(ALICE, "您好", reply_markup=keyboard([("提交心愿", "wish:new")]))
    assert lines == [
        "[1] user_text Alice @ Alice: 你好",
        "[2] bot_send bot @ Alice: 您好  [提交心愿]",
    ]
    assert [event.kind for event in fake.events] == ["user_text", "bot_send"]


# --- the HTTP layer itself -----------------------------------------------------------------


async def test_unknown_method_and_wrong_token_answer_like_telegram(fake: FakeBotAPI) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/bot{fake.token}/sendPigeon") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.post(f"{fake.base_url}/bot1:WRONG/getMe") as response:
            assert response.status == 401


async def test_json_urlencoded_and_get_bodies_are_all_understood(fake: FakeBotAPI) -> None:
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": ALICE, "text": "j", "reply_markup": markup}):
            pass
        form = {"chat_id": str(ALICE), "text": "f", "reply_markup": '{"remove_keyboard": true}'}
        async with http.post(url, data=form) as response:
            assert (await response.json())["ok"] is True
        async with http.get(url, params={"chat_id": str(ALICE), "text": "g"}) as response:
            assert (await response.json())["result"]["text"] == "g"
    texts = [(m.text, m.button_texts()) for m in fake.messages(ALICE)]
    assert texts == [("j", ["好"]), ("f", []), ("g", [])]


def test_api_error_renders_retry_after_parameters() -> None:
    error = ApiError(429, "Too Many Requests: retry after 3", retry_after=3)
    assert error.to_json()["parameters"] == {"retry_after": 3}


async def test_two_fakes_in_one_process_are_independent() -> None:
    async with FakeBotAPI() as one, FakeBotAPI(token="999:OTHER", bot_username="x_bot") as two:
        one.user(ALICE, "Alice")
        bot_one, bot_two = one.make_bot(), two.make_bot()
        try:
            await bot_one.send_message(ALICE, "只在一号")
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await bot_two.send_message(ALICE, "二号没有这个人")
            assert (await bot_two.get_me()).username == "x_bot"
        finally:
            await _close(bot_one)
            await _close(bot_two)
        assert len(one.deliveries) == 1 and two.deliveries == []


# --- waiting and the real dispatcher -------------------------------------------------------


def echo_router() -> Router:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer("<b>欢迎</b>使用微心愿")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


async def test_dispatcher_polls_the_fake_and_replies(fake: FakeBotAPI) -> None:
    bot = fake.make_bot(default=DefaultBotProperties(parse_mode="HTML"))
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        alice = fake.user(ALICE, "Alice")
        await fake.send_text(alice, "/start")
        welcome = await fake.expect(ALICE, "欢迎")
        assert welcome.text == "欢迎使用微心愿" and welcome.parse_mode == "HTML"
        await fake.send_text(alice, "厨房水管漏水")
        assert (await fake.expect(ALICE, "echo:")).text == "echo: 厨房水管漏水"
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)
        await _close(bot)
    assert polling.exception() is None


async def test_settle_waits_for_the_bot_to_finish_a_step(fake: FakeBotAPI) -> None:
    bot = fake.make_bot()
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, handle_as_tasks=False
        )
    )
    try:
        alice = fake.user(ALICE, "Alice")
        for text in ("一", "二", "三"):
            await fake.send_text(alice, text)
        await fake.settle()
        assert [m.text for m in fake.messages(ALICE)] == ["echo: 一", "echo: 二", "echo: 三"]
        kinds = [event.kind for event in fake.events]
        assert kinds == ["user_text"] * 3 + ["bot_send"] * 3
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)
        await _close(bot)


async def test_settle_and_expect_fail_clearly_when_nothing_happens(
    fake: FakeBotAPI, bot: Bot
) -> None:
    await bot.send_message(ALICE, "旧消息")
    await fake.send_text(fake.user(ALICE, "Alice"), "有人吗")
    with pytest.raises(AssertionError, match="1 updates not yet fetched"):
        await fake.settle(timeout=0.2)
    with pytest.raises(AssertionError, match="旧消息"):  # the failure lists the chat
        await fake.expect(ALICE, "旧消息", timeout=0.2)  # ...but it predates the user's step
