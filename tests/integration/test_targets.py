"""``/muctieu``: what leaders aim at, in the chat, checked against the scores figure for figure."""

from __future__ import annotations

import json
from decimal import Decimal

from dialogue_helpers import START, Clock

from bot.labels import by_language
from conversations.contact_dialogue import ContactDialogue
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.targets import commonly_missed, missed
from integration.test_coordinator_rendering import COORDINATOR, ZONE, campaign_with, city_of, rendered
from rubrics.formatting import vn_score
from storage import campaigns
from storage.reports import campaign_report


def test_an_agency_s_targets_are_exactly_its_indicators_below_full_points(db):
    token = campaign_with(db, city_of(6))
    ContactDialogue(db, Clock(START)).start(COORDINATOR, token)
    dialogue = CoordinatorDialogue(db, Clock(START), ZONE, by_language(ZONE))
    outcome = dialogue.targets(COORDINATOR, "p003")
    (text,) = rendered(outcome, "vi")
    with db.session() as session:
        campaign = campaigns.get(session, outcome.replies[0].context["campaign"].id)
        report = campaign_report(session, campaign)["xa"]
    entry = next(e for e in report.agencies if e.agency.code == "P003")
    expected = missed(entry, report.rubric)
    assert expected and [m.code for m in outcome.replies[0].context["missed"]] == [m.code for m in expected]
    assert f"{len(expected)} chỉ tiêu chưa đạt điểm tối đa" in text
    every = {i.code: i for i in entry.effective.indicators.values()}
    below = {c for c, s in every.items() if s.applicable > 0 and s.achieved < s.applicable}
    assert {m.code for m in expected} == below
    for m in expected:
        assert f"{m.code} " in text and f"mất {vn_score(m.lost)}" in text
        assert m.lost == every[m.code].applicable - every[m.code].achieved > Decimal(0)

    level_view = dialogue.targets(COORDINATOR)
    (levels,) = rendered(level_view, "vi")
    common = commonly_missed(report)
    top = common[0]
    assert top.missed_by == sum(1 for e in report.standing() if top.code in {m.code for m in missed(e, report.rubric)})
    assert f"{top.code} " in levels and f"{top.missed_by}/{top.of} đơn vị chưa đạt" in levels


def test_targets_of_an_agency_outside_the_campaign_are_refused_in_one_sentence(db):
    token = campaign_with(db, city_of(3))
    ContactDialogue(db, Clock(START)).start(COORDINATOR, token)
    dialogue = CoordinatorDialogue(db, Clock(START), ZONE, by_language(ZONE))
    (text,) = rendered(dialogue.targets(COORDINATOR, "KHONGCO"), "vi")
    assert "KHONGCO" in text and "\n" not in text.strip()


def test_the_command_line_lists_the_same_targets(db, capsys, database_url):
    from cli_helpers import Cli

    campaign_with(db, city_of(6))
    cqdt = Cli(capsys, database_url)
    with db.session() as session:
        campaign = campaigns.get(session, 1)
        report = campaign_report(session, campaign)["xa"]
    entry = next(e for e in report.agencies if e.agency.code == "P002")
    expected = missed(entry, report.rubric)
    shown = json.loads(cqdt("targets", "--campaign", "1", "--agency", "p002", "--json"))
    assert [(i["code"], Decimal(i["lost"])) for i in shown["indicators"]] == [(m.code, m.lost) for m in expected]
    plain = cqdt("targets", "--campaign", "1", "--agency", "P002")
    assert all(f" {m.code} " in plain for m in expected)
    levels = json.loads(cqdt("targets", "--campaign", "1", "--json"))["levels"]
    xa = next(lv for lv in levels if lv["level"] == "xa")["indicators"]
    assert [(c["code"], c["missed_by"]) for c in xa] == [(c.code, c.missed_by) for c in commonly_missed(report)]
    assert "đơn vị, mất bình quân" in cqdt("targets", "--campaign", "1")
