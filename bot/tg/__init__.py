"""The Telegram side of the composition root: dispatcher, middlewares, keyboards, rendering."""
