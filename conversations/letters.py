"""Who signs the letters sent by e-mail: the coordinating office, its name and its contact line.

:func:`office_of` is the one place that decides it: the office the campaign records (``campaign create
--office … --contact … --letter …``), and where the campaign leaves a part out, the sender of the e-mail channel
(the name and the address of ``CQDT_MAIL_FROM``).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.records import CampaignFacts


@dataclass(frozen=True)
class Office:
    name: str  # "Sở Khoa học và Công nghệ tỉnh Quảng Ninh"
    contact: str  # the contact line of a letter: an address, a phone number
    letter: str | None = None  # the office's letter that launched the campaign: "436/STTTT-CNTT ngày 07/10/2019"


def office_of(campaign: CampaignFacts, sender: Office) -> Office:
    """The office a campaign's letters come from: the campaign's own, completed by the e-mail channel's sender."""
    office = campaign.office
    return Office(office.name or sender.name, office.contact or sender.contact, office.letter)
