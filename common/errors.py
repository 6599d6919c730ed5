"""Refusals: expected failures the user can fix, named by a message key and its parameters.

The words live in the templates (``refusals.j2``); storage and conversation code
only says which refusal applies.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(self, key: str, **params: Any):
        self.key = key
        self.params = params
        super().__init__(key, params)
