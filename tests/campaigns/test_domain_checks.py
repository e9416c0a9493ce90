"""Sender domain checks against a local DNS server, and DKIM signatures that verify."""

from __future__ import annotations

import dkim
import pytest
from django.core.mail import EmailMessage

from campaigns import dkim_keys, domain_checks
from campaigns.models import Sender
from tests.campaigns.dns_server import LocalDNS

pytestmark = pytest.mark.django_db


@pytest.fixture
def sender(org):
    return Sender.objects.create(organization=org, name="Rita", email="rita@acme.example")


def test_a_well_set_up_domain_passes(settings, sender):
    record = dkim_keys.generate(sender, "s1")
    zone = {
        "acme.example": ["v=spf1 include:_spf.mail.example -all", "google-site-verification=x"],
        "_dmarc.acme.example": ["v=DMARC1; p=quarantine; rua=mailto:d@acme.example"],
        "s1._domainkey.acme.example": [record],
    }
    with LocalDNS(zone) as server:
        settings.DNS_NAMESERVERS = [server.address]
        report = domain_checks.check_sender(sender)
    assert report["spf"]["status"] == "ok" and report["dmarc"]["policy"] == "quarantine"
    assert report["dkim"]["status"] == "ok", report["dkim"]
    sender.refresh_from_db()
    assert sender.dns_report["domain"] == "acme.example"


def test_missing_and_broken_records_say_what_to_fix(settings, sender):
    dkim_keys.generate(sender, "s1")
    zone = {
        "acme.example": ["v=spf1 a -all", "v=spf1 mx -all"],
        "s1._domainkey.acme.example": ["v=DKIM1; k=rsa; p=MIIBIjANotThisKey"],
    }
    with LocalDNS(zone) as server:
        settings.DNS_NAMESERVERS = [server.address]
        report = domain_checks.check_sender(sender)
    assert (
        report["spf"]["status"] == "error" and "more than one SPF record" in report["spf"]["advice"]
    )
    assert (
        report["dmarc"]["status"] == "missing"
        and "_dmarc.acme.example" in report["dmarc"]["advice"]
    )
    assert report["dkim"]["status"] == "error" and "not this sender's" in report["dkim"]["advice"]


def test_a_dns_timeout_is_reported_not_raised(settings, sender, monkeypatch):
    monkeypatch.setattr(domain_checks, "TIMEOUT", 0.3)
    with LocalDNS({"acme.example": ["v=spf1 -all"]}, delay=1.0) as server:
        settings.DNS_NAMESERVERS = [server.address]
        report = domain_checks.check_sender(sender)
    assert report["spf"]["status"] == "unknown" and "timed out" in report["spf"]["advice"]


def test_messages_are_dkim_signed_over_the_unsubscribe_headers(sender):
    record = dkim_keys.generate(sender, "s1")
    message = EmailMessage(
        "Hello",
        "Body text",
        "Rita <rita@acme.example>",
        ["ada@x.example"],
        headers={
            "List-Unsubscribe": "<https://app.example/u/t/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": "<m1@acme.example>",
        },
    )
    from email.policy import SMTP

    raw = message.message().as_bytes(policy=SMTP)
    signature = dkim_keys.sign(raw, sender)
    assert signature.startswith(b"DKIM-Signature:")
    header = signature.decode().replace("\r\n", "")
    assert "list-unsubscribe:list-unsubscribe-post" in header.replace(" ", "")

    def dnsfunc(name, timeout=5):
        assert name == b"s1._domainkey.acme.example."
        return record.encode()

    assert dkim.verify(signature + raw, dnsfunc=dnsfunc)
    tampered = raw.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"
    )
    assert not dkim.verify(signature + tampered, dnsfunc=dnsfunc)


def test_sender_page_makes_a_key_and_checks_the_domain(owner_client, org, sender, settings):
    base = f"/o/{org.slug}/campaigns/senders/{sender.pk}/"
    owner_client.post(base + "domain/dkim/", {"selector": "mail1"})
    sender.refresh_from_db()
    assert sender.dkim_selector == "mail1" and sender.dkim_private_key_encrypted
    page = owner_client.get(base).content.decode()
    assert "mail1._domainkey.acme.example" in page and "v=DKIM1; k=rsa; p=" in page
    with LocalDNS({"acme.example": ["v=spf1 -all"]}) as server:
        settings.DNS_NAMESERVERS = [server.address]
        response = owner_client.post(base + "domain/check/", follow=True)
    body = response.content.decode()
    assert "To fix: DKIM, DMARC" in body and "_dmarc.acme.example" in body


def test_campaign_email_arrives_dkim_signed_and_verifies(org, owner, sender, sink):
    """Through the real sending path to the SMTP sink: the received message verifies."""
    from types import SimpleNamespace

    from campaigns import sending
    from tests import factories

    record = dkim_keys.generate(sender, "s2")
    sender.smtp_host, sender.smtp_port, sender.smtp_security = "127.0.0.1", sink.port, "none"
    sender.save()
    lead = factories.make_lead(org, actor=owner, first_name="Ada", email="ada@x.example")
    draft = SimpleNamespace(organization=org, lead=lead, subject="Hi Ada", body="Hello.\n\nRita")
    draft.save = lambda **kwargs: None
    sending.send_one_off(draft=draft, user=owner)
    raw = sink.to("ada@x.example")[0].raw
    assert raw.startswith(b"DKIM-Signature:")

    def dnsfunc(name, timeout=5):
        assert name == b"s2._domainkey.acme.example."
        return record.encode()

    assert dkim.verify(raw, dnsfunc=dnsfunc)
