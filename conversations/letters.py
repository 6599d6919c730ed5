"""Who signs the letters sent by e-mail: the coordinating office, its name and its contact line.

:func:`office_of` is the one place that decides it. Until a campaign records its coordinating office
(issue 13), the office is the sender of the e-mail channel: the name and the address of ``CQDT_MAIL_FROM``.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.records import CampaignFacts


@dataclass(frozen=True)
class Office:
    name: str  # "Sở Khoa học và Công nghệ tỉnh Quảng Ninh"
    contact: str  # the contact line of a letter: an address, a phone number


def office_of(campaign: CampaignFacts, sender: Office) -> Office:
    """The office a campaign's letters come from; for now the e-mail channel's sender (see the module)."""
    return sender
