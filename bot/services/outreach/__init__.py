"""Outreach: broadcasts, events with check-in, linked group chats."""
