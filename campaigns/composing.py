"""One email from one Message row: the MIME message that goes over SMTP.

`build(message)` gives a Django EmailMultiAlternatives: From "Sender Name <address>",
Reply-To, To, Subject, a text part and an HTML part (each with the footer: unsubscribe link
and the organization's postal address when set), tracking in the HTML part when the
campaign asks for it (one-off messages are never tracked), and the headers every campaign
email carries: Message-ID, List-Unsubscribe (mailto and https) and List-Unsubscribe-Post
(RFC 8058 one-click).

`to_bytes(email, sender)` is the wire form for SMTP. It writes the same fields as Django's
own serializer (`email.message()`, which the non-SMTP backends use) through the standard
library's compat32 MIME classes, about four times faster: Django's parses every header it
writes, and at a few milliseconds a message that was most of a send's cost. DKIM signing
(next slice) goes in `sign()`, the one place every outgoing message passes after its
headers are final.
"""

from __future__ import annotations

import email.policy
import html
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate

from django.core.mail import EmailMultiAlternatives

from campaigns import dkim_keys, tracking
from campaigns.models import Message, Sender

# Parts in UTF-8, quoted-printable (readable, and safe for any line length). Headers are
# folded only past RFC 5322's hard limit: compat32 would otherwise fold right after the
# colon; non-ASCII subjects come pre-folded into encoded words of RFC 2047's length.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
_WIRE = email.policy.compat32.clone(linesep="\r\n", max_line_length=998)


def unsubscribe_mailto(message: Message) -> str:
    """mailto:unsubscribe+TOKEN@<sender domain>: the token is the same signed value as the
    https link's, so a reply-to-unsubscribe handler can read it back with tracking.read."""
    token = tracking.token(message.pk, tracking.SALT_UNSUBSCRIBE)
    return f"mailto:unsubscribe+{token}@{message.sender.domain}"


def footer_text(unsubscribe: str, postal_address: str) -> str:
    lines = ["", "", "--", f"Unsubscribe: {unsubscribe}"]
    if postal_address.strip():
        lines.append(postal_address.strip())
    return "\n".join(lines)


def footer_html(unsubscribe: str, postal_address: str) -> str:
    link = html.escape(unsubscribe, quote=True)
    parts = [f'<a href="{link}">Unsubscribe</a>']
    if postal_address.strip():
        parts.append(html.escape(postal_address.strip()).replace("\n", "<br>\n"))
    return (
        '\n<hr style="border:0;border-top:1px solid #ddd">\n'
        '<p style="font-size:12px;color:#666">' + "<br>\n".join(parts) + "</p>"
    )


def build(message: Message) -> EmailMultiAlternatives:
    """The email for `message` (its sender, organization and campaign are read from it:
    select_related them when building many)."""
    sender: Sender = message.sender
    postal_address = message.organization.postal_address or ""
    unsubscribe = tracking.unsubscribe_url(message.pk)
    body_html = message.body_html
    campaign = message.campaign
    if campaign is not None and (campaign.track_opens or campaign.track_clicks):
        body_html = tracking.add_tracking(
            body_html, message.pk, opens=campaign.track_opens, clicks=campaign.track_clicks
        )
    email_message = EmailMultiAlternatives(
        subject=_one_line(message.subject),
        body=message.body_text + footer_text(unsubscribe, postal_address),
        from_email=formataddr((_one_line(sender.name), sender.email)),
        to=[message.to_email],
        reply_to=[sender.reply_to] if sender.reply_to else [],
        headers={
            "Message-ID": f"<{message.message_id}>",
            "List-Unsubscribe": f"<{unsubscribe_mailto(message)}>, <{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email_message.attach_alternative(
        body_html + footer_html(unsubscribe, postal_address), "text/html"
    )
    return email_message


def sign(raw: bytes, sender: Sender) -> bytes:
    """The message with its DKIM-Signature in front when the sender has a key (covering
    From, To, Subject, Date, Message-ID, Reply-To, the MIME headers and List-Unsubscribe /
    List-Unsubscribe-Post, see campaigns.dkim_keys); as it is otherwise."""
    return dkim_keys.sign(raw, sender) + raw


def _one_line(value: str) -> str:
    """No line breaks in a header value (they would start a new header)."""
    return " ".join(value.split())


def to_bytes(email_message: EmailMultiAlternatives, sender: Sender) -> bytes:
    """The message as sent over SMTP: CRLF line ends, long headers folded, both parts
    quoted-printable UTF-8, then `sign()`."""
    root = MIMEMultipart("alternative")
    root["From"] = email_message.from_email
    root["To"] = ", ".join(email_message.to)
    if email_message.reply_to:
        root["Reply-To"] = ", ".join(email_message.reply_to)
    subject = email_message.subject
    root["Subject"] = (
        subject if subject.isascii() else Header(subject, "utf-8").encode(maxlinelen=76)
    )
    root["Date"] = formatdate(usegmt=True)
    for name, value in email_message.extra_headers.items():
        root[name] = value
    parts = [(email_message.body, "plain")] + [
        (alternative.content, alternative.mimetype.split("/", 1)[1])
        for alternative in email_message.alternatives
    ]
    for content, subtype in parts:
        part = MIMEText(content, subtype, _UTF8_QP)
        del part["MIME-Version"]  # once, on the message itself
        root.attach(part)
    return sign(root.as_bytes(policy=_WIRE), sender)
