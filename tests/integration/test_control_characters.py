"""Control characters in what people type (issue 15, defect 6): a typed answer or a coordinator's reason
with one is refused in one sentence saying to type it again, and nothing is stored; on SQLite and
PostgreSQL. (Agency lists: test_agency_lists.py; rubric files: tests/unit/test_rubric_limits.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from integration.test_contact_dialogue import Driver, answers_of, rendered
from integration.test_contact_dialogue import world as contact_world  # noqa: F401 (a fixture)
from integration.test_verification import COORDINATOR, XA, state_of, submit, texts, yes_no_indicator
from integration.test_verification import world as coordinator_world  # noqa: F401 (a fixture)
from rubrics.bundled import bundled
from storage.models import Adjustment


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
def test_a_typed_answer_with_a_control_character_is_refused_and_not_stored(contact_world, char):  # noqa: F811
    db, clock, campaign, dialogue = contact_world
    driver = Driver(dialogue, 210)
    driver.start(campaign.tokens["06652"])
    rubric = bundled()["qn2018-xa"]
    text_step = next(s for s in rubric.steps if s.question.type == "text" and s.question.when is None)
    driver.command("sua", str(text_step.number))
    said = rendered(driver.say(f"Có quy chế{char} số 12"))
    assert "ký tự điều khiển" in said[0] and "gõ lại" in said[0] and "\n" not in said[0]
    assert f"U+{ord(char):04X}" in said[0]
    assert text_step.question.id not in answers_of(db, "06652")
    number = rubric.by_id["cbcc_tong"].question
    driver.command("sua", number.id)
    assert "ký tự điều khiển" in rendered(driver.say(f"12{char}"))[0]
    assert number.id not in answers_of(db, "06652")
    driver.say("12")  # typed again, it is taken
    assert answers_of(db, "06652")[number.id] == 12


def test_a_reason_with_a_control_character_is_refused_and_nothing_changes(coordinator_world):  # noqa: F811
    db, clock, _, contacts, coordinators = coordinator_world
    item, _ = yes_no_indicator(XA)
    submit(contacts)
    returned = texts(coordinators.return_indicators(COORDINATOR, f"06652 {item.code} Thiếu\x00 quyết định"))
    assert "ký tự điều khiển" in returned and "U+0000" in returned and "gõ lại" in returned
    assert state_of(db, "06652") == "submitted"
    adjusted = texts(coordinators.adjust(COORDINATOR, f"06652 {item.code} 0 Hết\x1b hiệu lực"))
    assert "ký tự điều khiển" in adjusted and "U+001B" in adjusted
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Adjustment)) == 0
