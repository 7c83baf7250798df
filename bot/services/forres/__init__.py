"""Filing on behalf (代办): grid workers, staff (and volunteers, if the community allows) file
wishes for residents who have no Telegram, stand in for them in the bot, and the records join
the resident's own account when they register later with the same phone."""
