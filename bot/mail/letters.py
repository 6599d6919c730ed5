"""An outbox row of the e-mail channel as a MIME message: subject, plain text, and for an invitation an
HTML part with the QR code inline (``multipart/alternative`` with a ``multipart/related`` image).

Each kind's text is ``{lang}/mail/{kind}.j2`` (its ``subject`` macro and its body); an invitation also has
``{lang}/mail/invitation.html.j2``, rendered with autoescaping. The deep link is built here from the bot's
name and the invitation token the row's context carries.
"""

from __future__ import annotations

import email.policy
import io
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, TemplateNotFound

from bot.texts import environment, language_of
from conversations.letters import Office
from conversations.reminders.mail import MailChannel
from conversations.reminders.notices import Claimed
from storage.invitations import deep_link

QR_SCALE = 8
# Python 3.11's header folding splits a long Vietnamese subject into encoded words and drops the spaces
# between them ("giá:Đánh"); headers folded only past RFC 5322's 998 characters keep each one whole.
# Bodies go as quoted-printable or base64 (7bit), for any server. bot.mail.smtp sends the message's bytes
# as this policy writes them.
POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")


@cache
def html_environment(zone: str) -> Environment:
    """The templates' environment with HTML autoescaping: a name or a comment cannot write markup."""
    return environment(zone).overlay(autoescape=True)


def mail_channel(sender: Address | None) -> MailChannel | None:
    """The channel the outbox plans for, when e-mail is on: the office is the sender's name and address."""
    if sender is None:
        return None
    return MailChannel(Office(sender.display_name or sender.addr_spec, sender.addr_spec))


def qr_png(link: str) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


def letter_of(claimed: Claimed, zone: str, sender: Address, bot_username: str) -> EmailMessage:
    """The message of a claimed e-mail row."""
    lang = language_of(claimed.language)
    context = dict(claimed.context)
    if "token" in context:
        context["link"] = deep_link(bot_username, context["token"])
    module = environment(zone).get_template(f"{lang}/mail/{claimed.template}.j2").make_module(context)
    message = EmailMessage(policy=POLICY)
    message["Subject"] = " ".join(str(module.subject()).split())
    message["From"] = sender
    message["To"] = claimed.email
    message["Date"] = format_datetime(context["now"].astimezone(ZoneInfo(zone)))
    message["Message-ID"] = make_msgid(idstring=f"cqdt.{claimed.id}", domain=sender.domain)
    message["X-CQDT-Kind"] = claimed.kind  # what it is, for a mail client's filter (and the demo's file names)
    message.set_content(str(module).strip() + "\n")
    try:
        html = html_environment(zone).get_template(f"{lang}/mail/{claimed.template}.html.j2")
    except TemplateNotFound:
        return message
    cid = make_msgid(idstring="qr", domain=sender.domain)
    message.add_alternative(html.render(**context, qr_cid=cid[1:-1]), subtype="html")
    message.get_payload()[1].add_related(qr_png(context["link"]), "image", "png", cid=cid, filename="ma-qr.png")
    return message
