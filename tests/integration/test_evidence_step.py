"""Evidence at its question, driven through the contact's dialogue on the database: the pages of an album
after the walk moved on, a later file on a file question, removing a piece, a link the coordinator sees, and
/huy where nothing or something is pending."""

from __future__ import annotations

from dialogue_helpers import START, Clock, answer_all, make_campaign
from sqlalchemy import select

from bot.labels import by_language
from bot.rendering import label_of
from conversations.contact_dialogue import ContactDialogue, Upload
from conversations.coordinator_dialogue import CoordinatorDialogue
from conversations.situation import Person
from integration.test_contact_dialogue import Driver, rendered
from rubrics.bundled import bundled
from storage import answers as answer_store
from storage.models import Agency, Evidence

XA = bundled()["qn2018-xa"]
ZONE = "Asia/Ho_Chi_Minh"


def evidence(db, question_id: str) -> list[tuple[str, str | None, str | None]]:
    with db.session() as session:
        rows = session.scalars(select(Evidence).where(Evidence.question_id == question_id).order_by(Evidence.id))
        return [(e.kind, e.file_name, e.url) for e in rows]


def answers(db) -> dict:
    with db.session() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "06652"))
        return answer_store.load_agency_answers(session, XA, agency.id)


def page(driver: Driver, n: int, group: str = "album-1") -> None:
    upload = Upload("photo", f"P{n}", f"U{n}", f"trang-{n}.jpg", 1000, "image/jpeg", group)
    driver._take(driver.dialogue.upload(driver.who, upload))


def walk_to(driver: Driver, question_id: str) -> None:
    """Open the question (revealing it by a yes first where a yes/no question decides it)."""
    condition = XA.question(question_id).when
    if condition is not None:
        driver.command("sua", condition.question)
        driver.press("yes")
    driver.command("sua", question_id)
    assert driver.question.id == question_id


def started(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    dialogue = ContactDialogue(db, clock)
    driver = Driver(dialogue, 800)
    driver.start(campaign.tokens["06652"])
    return clock, campaign, dialogue, driver


def test_every_page_of_an_album_goes_to_the_file_question_its_first_page_answered(db):
    clock, campaign, dialogue, driver = started(db)
    walk_to(driver, "quy_che_tep")
    page(driver, 1)
    assert answers(db)["quy_che_tep"]["file_name"] == "trang-1.jpg"
    assert driver.question.id != "quy_che_tep"  # the first page answered it and the walk moved on
    moved_to = driver.question.id
    page(driver, 2)
    page(driver, 3)
    assert [name for _, name, _ in evidence(db, "quy_che_tep")] == ["trang-1.jpg", "trang-2.jpg", "trang-3.jpg"]
    assert "cho câu 19" in rendered(driver.outcome)[0]
    assert evidence(db, moved_to) == []
    walk_to(driver, "quy_che_tep")
    assert "📎 3 minh chứng: trang-1.jpg, trang-2.jpg, trang-3.jpg" in rendered(driver.outcome)[-1]


def test_a_later_file_is_added_and_replaces_the_answer_only_when_asked(db):
    clock, campaign, dialogue, driver = started(db)
    walk_to(driver, "quy_che_tep")
    driver.upload("quy-che-cu.pdf")
    walk_to(driver, "quy_che_tep")
    driver.upload("quy-che-moi.pdf")
    assert answers(db)["quy_che_tep"]["file_name"] == "quy-che-cu.pdf"  # added, not replaced
    received = driver.outcome.replies[0]
    assert "quy-che-moi.pdf" in rendered(driver.outcome)[0]
    driver.press("use_file", received)
    assert answers(db)["quy_che_tep"]["file_name"] == "quy-che-moi.pdf"
    assert len(evidence(db, "quy_che_tep")) == 2


def test_removing_a_piece_brings_back_what_is_missing(db):
    clock, campaign, dialogue, driver = started(db)
    walk_to(driver, "ke_hoach_vb")
    driver.say("12/KH-UBND; 15/01/2018; Kế hoạch ứng dụng CNTT năm 2018")
    assert driver.question.id == "ke_hoach_vb" and driver.prompt.context["asked_evidence"]
    driver.say("https://haphong.gov.vn/ke-hoach-2018.pdf")
    shown = rendered(driver.outcome)
    assert "đường dẫn https://haphong.gov.vn/ke-hoach-2018.pdf" in shown[0]
    assert "📎 1 minh chứng" in shown[-1] and "Cần minh chứng" not in shown[-1]
    assert evidence(db, "ke_hoach_vb") == [("link", None, "https://haphong.gov.vn/ke-hoach-2018.pdf")]
    removal = next(k for k in driver.buttons() if k == "remove_evidence")
    driver.press(removal)
    shown = rendered(driver.outcome)
    assert "Đã gỡ minh chứng «https://haphong.gov.vn/ke-hoach-2018.pdf»" in shown[0] and "Cần minh chứng" in shown[-1]
    assert evidence(db, "ke_hoach_vb") == [] and "remove_evidence" not in driver.buttons()


def test_the_coordinator_sees_a_link_given_as_evidence(db):
    clock, campaign, dialogue, driver = started(db)
    walk_to(driver, "ke_hoach_vb")
    driver.say("12/KH-UBND; 15/01/2018; Kế hoạch ứng dụng CNTT năm 2018")
    driver.say("https://haphong.gov.vn/ke-hoach-2018.pdf")
    coordinator = Person(900, 900, "Sở", "vi")
    dialogue.start(coordinator, campaign.coordinator_token)
    coordinators = CoordinatorDialogue(db, clock, ZONE, by_language(ZONE))
    pages = coordinators.agency(coordinator, "06652").replies[0].context["pages"]
    shown = "\n".join(
        text for number in range(1, pages - 1) for text in rendered(coordinators.agency(coordinator, "06652", number))
    )
    assert "📎 đường dẫn https://haphong.gov.vn/ke-hoach-2018.pdf" in shown


def test_huy_says_whether_anything_was_pending(db):
    clock, campaign, dialogue, driver = started(db)
    walk_to(driver, "cbcc_tap_huan")
    driver.press("reference")
    assert rendered(driver.command("huy"))[0].startswith("Đã huỷ thao tác đang chờ")
    assert driver.question.id == "cbcc_tap_huan" and driver.prompt.context["mode"] is None
    assert rendered(driver.command("cancel"))[0].startswith("Không có thao tác nào đang chờ")


def test_huy_leaves_the_submission_waiting_for_confirmation(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    answer_all(db, "06652", 1)
    driver = Driver(ContactDialogue(db, clock), 810)
    driver.start(campaign.tokens["06652"])
    confirm = driver.command("nop").replies[0]
    assert confirm.template == "submit_confirm"
    driver.command("huy")
    assert driver.press_data(confirm.buttons[0][0].data).notice == "stale_button"
    assert driver.command("nop").replies[0].template == "submit_confirm"  # asked again, nothing lost


def test_an_english_contact_is_asked_for_evidence_in_english(db):
    clock = Clock(START)
    campaign = make_campaign(db, START)
    driver = Driver(ContactDialogue(db, clock), 820, "Anna", "en")
    driver.start(campaign.tokens["06652"])
    walk_to(driver, "ke_hoach_vb")
    driver.say("12/KH-UBND; 15/01/2018; IT plan 2018")
    asked = rendered(driver.outcome, "en")[-1]
    labels = [label_of(b, "en", ZONE) for row in driver.prompt.buttons for b in row]
    assert "Please send the evidence file" in asked and "Later ▶" in labels
    page(driver, 1)
    page(driver, 2)
    listed = rendered(driver.outcome, "en")
    assert "Evidence received for question 17" in listed[0] and "📎 2 evidence: trang-1.jpg, trang-2.jpg" in listed[-1]
    assert not any(word in " ".join(listed) for word in ("minh chứng", "Xin", "câu", "Đồng chí"))
    assert rendered(driver.command("cancel"), "en")[0].startswith("Nothing is pending")
