"""DKIM for senders: a key pair made here (RSA 2048, the private half encrypted at rest),
the TXT record to publish, and the signature on every message (dkimpy), covering the
List-Unsubscribe headers as RFC 8058 asks."""

from __future__ import annotations

import base64
import re

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts import crypto

SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


def generate(sender, selector: str = "") -> str:
    """A new key pair for the sender; returns the TXT record value to publish."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    sender.dkim_selector = selector or sender.dkim_selector or "prospector"
    sender.dkim_private_key_encrypted = crypto.encrypt(pem)
    sender.save(update_fields=["dkim_selector", "dkim_private_key_encrypted"])
    return record(sender)


def private_pem(sender) -> bytes:
    return crypto.decrypt(sender.dkim_private_key_encrypted).encode()


def public_key_b64(sender) -> str:
    key = serialization.load_pem_private_key(private_pem(sender), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def record(sender) -> str:
    return f"v=DKIM1; k=rsa; p={public_key_b64(sender)}"


def record_name(sender) -> str:
    return f"{sender.dkim_selector}._domainkey.{sender.domain}"


def public_key_of_record(text: str) -> str:
    match = re.search(r"(?:^|;)\s*p=([A-Za-z0-9+/=\s]*)", text)
    return re.sub(r"\s+", "", match.group(1)) if match else ""


def sign(raw: bytes, sender) -> bytes:
    """The DKIM-Signature header line for `raw` (a whole RFC 5322 message), to prepend; b""
    when the sender has no key."""
    if not sender.dkim_private_key_encrypted or not sender.dkim_selector:
        return b""
    present = {
        line.split(b":", 1)[0].strip().lower()
        for line in raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n").split(b"\n")
        if b":" in line and not line[:1].isspace()
    }
    headers = [h for h in SIGNED_HEADERS if h in present]
    return dkim.sign(
        raw,
        sender.dkim_selector.encode(),
        sender.domain.encode(),
        private_pem(sender),
        include_headers=headers,
        canonicalize=(b"relaxed", b"relaxed"),
    )
