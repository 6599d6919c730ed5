"""An English-speaking contact and coordinator see no Vietnamese word, through the real bot over HTTP.

The contact walks the whole rubric with English buttons, makes mistakes, reviews, submits and asks again;
the coordinator looks at the status, the scores and a refusal. Every message and button the bot sends them
is checked for Vietnamese letters, leaving out only the proper names the data holds (the agency's and the
campaign's names, the person's name) and the document symbols typed in (QĐ-UBND).
"""

from __future__ import annotations

import random
import re
import unicodedata

from dialogue_helpers import answer_all
from test_bot_e2e import HEADER, RUBRIC, fake, running  # noqa: F401 (fixtures)

from bot.texts import environment
from rubrics.answers import NA
from rubrics.sample_answers import sample_answers

PROPER_NAMES = (
    "UBND Phường Hà Phong",
    "UBND Phường Hà Khẩu",
    "UBND Thành phố Hạ Long",
    "Đánh giá CQĐT năm 2019",
    "Quảng Ninh",  # in the English title of the rubric
)
SYMBOL = re.compile(r"\d+/[\w.&\-–/]+")


def vietnamese_words(text: str) -> list[str]:
    """The words of ``text`` written with Vietnamese letters (a diacritic, or đ)."""
    for name in PROPER_NAMES:
        text = text.replace(name, "")
    text = SYMBOL.sub("", text)
    return [
        word
        for word in re.findall(r"\w+", text)
        if any(ch in "đĐ" or unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", word))
    ]


def label(name: str, **params) -> str:
    return str(getattr(environment().get_template("en/buttons.j2").module, name)(**params)).strip()


def english_typed(question, value) -> str:
    if question.type == "integer":
        return f"{value:,}".replace(",", ".")
    if question.type in ("decimal", "percentage"):
        return str(value).replace(".", ",")
    if question.type == "date":
        return value.strftime("%d/%m/%Y")
    if question.type == "document":
        return f"{value['so_hieu']}, {value['ngay'].strftime('%d/%m/%Y')}, IT application plan"
    return "Anna Smith, IT officer, 0912 345 678"


def is_prompt(message) -> bool:
    return bool(HEADER.search(message.text or ""))


def answer(user, prompt, question, value):
    options = {o.value: o for o in getattr(question, "options", [])}
    if value is NA:
        update = user.press(label("not_applicable"), message_id=prompt.message_id)
    elif value is None:
        update = user.press(label("skip"), message_id=prompt.message_id)
    elif question.type == "yes_no":
        update = user.press(label("yes" if value else "no"), message_id=prompt.message_id)
    elif question.type == "single_choice":
        update = user.press(label("option", option=options[value]), message_id=prompt.message_id)
    elif question.type == "multi_choice":
        for chosen in value:
            user.press(label("toggle", option=options[chosen], on=False), message_id=prompt.message_id)
            on = label("toggle", option=options[chosen], on=True)
            user.wait_for_reply(match=lambda m, on=on: on in m.button_texts)
        update = user.press(label("done"), message_id=prompt.message_id)
    elif question.type == "file":
        update = user.send_document("evidence.pdf", b"%PDF-1.4 evidence", "application/pdf")
    else:
        update = user.send_text(english_typed(question, value))
    return user.wait_for_reply(after_update=update, match=lambda m: is_prompt(m) or "/submit" in (m.text or ""))


def seen_by(server, chat_id: int) -> list[str]:
    """Every text and button label the bot sent to ``chat_id``, and every short notice it answered with."""
    seen = []
    for call in server.calls(chat_id=chat_id):
        if call.ok and call.message is not None:
            seen.append(call.message.text or "")
            seen += call.message.button_texts
    return seen + [c.text or "" for c in server.answered_callbacks(chat_id)]


def test_an_english_contact_and_coordinator_see_no_vietnamese(running, db):  # noqa: F811
    server, clock, campaign = running
    user = server.user(700, "Anna", language_code="en")
    user.send_command(f"/start {campaign.tokens['06652']}")
    prompt = user.wait_for_reply(match=is_prompt)
    plan = sample_answers(RUBRIC, random.Random(3), na_rate=0.2)
    mistakes = {"integer": ["twelve", "20 people", "12,5", "85%"], "date": ["31/02/2019", "15/3/19"]}
    while is_prompt(prompt):
        question = RUBRIC.steps[int(HEADER.search(prompt.text).group(1)) - 1].question
        for mistake in mistakes.pop(question.type, []):
            update = user.send_text(mistake)
            user.wait_for_reply(after_update=update, match=is_prompt)
        if question.evidence == "required" and question.type != "file":
            update = user.send_document("evidence.pdf", b"%PDF-1.4 evidence", "application/pdf")
            user.wait_for_reply(after_update=update, match=is_prompt)
        value = plan.get(question.id, None if not question.required else "x")
        prompt = answer(user, prompt, question, value)
    for command in ("/status", "/review", "/help", "/edit", "/edit 999"):
        user.wait_for_reply(after_update=user.send_command(command))
    update = user.send_command("/submit")
    confirm = user.wait_for_reply(after_update=update)
    user.press(label("confirm_submit"), message_id=confirm.message_id)
    user.wait_for_reply(match="RECEIPT")
    for command in ("/submit", "/continue", "/edit 2"):
        user.wait_for_reply(after_update=user.send_command(command))

    coordinator = server.user(701, "Sam", language_code="en")
    coordinator.wait_for_reply(after_update=coordinator.send_command(f"/start {campaign.coordinator_token}"))
    answer_all(db, "06655", seed=5)
    for command in ("/status", "/scores", "/scores xa", "/scores tinh", "/chart tinh", "/agency 06652", "/help"):
        coordinator.wait_for_reply(after_update=coordinator.send_command(command))
    for command in ("/adjust 06652 1.1 2", "/return 06652 1.1", "/return 06652"):
        coordinator.wait_for_reply(after_update=coordinator.send_command(command))

    for chat in (700, 701):
        found = {text[:80]: words for text in seen_by(server, chat) if (words := vietnamese_words(text))}
        assert not found, [t for t in seen_by(server, chat) if vietnamese_words(t)]
