"""What every layer may import: the refusal a user can act on."""
