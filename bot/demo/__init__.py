"""`cqdt demo`: a whole campaign offline, against an in-process fake of the Telegram Bot API."""
