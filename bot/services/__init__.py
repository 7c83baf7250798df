"""Use cases. Each owns its transaction, returns plain data, and never imports aiogram."""
