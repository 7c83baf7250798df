"""/help names /suggest for residents and /suggestions for staff (help_more.* locale keys)."""

from __future__ import annotations


def test_help_names_the_suggestion_commands_for_their_roles() -> None:
    from bot.i18n import Translator
    from bot.services.people.actors import Actor
    from handlers.common import help_text

    def actor(*roles: str) -> Actor:
        return Actor(1, 1, "zh-CN", "某人", frozenset(roles), None, None)

    zh = Translator("zh-CN")
    assert "/suggest " in help_text(actor("resident"), zh)
    assert "/suggestions" not in help_text(actor("resident"), zh)
    assert "/suggestions" in help_text(actor("staff"), zh)
    assert "/suggest" not in help_text(actor("volunteer"), zh)
    assert "/suggest " in help_text(actor("resident"), Translator("en"))
