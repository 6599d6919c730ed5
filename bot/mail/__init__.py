"""The e-mail channel: letters built from the outbox's rows, sent over SMTP (aiosmtplib)."""
