"""Sending what the outbox says is due, from PTB's job queue or the command line."""
