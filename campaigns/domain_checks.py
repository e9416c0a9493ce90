"""A sender's domain as receiving mail servers see it: SPF, DKIM and DMARC records, looked
up with dnspython (with a timeout, through `DNS_NAMESERVERS` when set), each with what to
fix in plain words.

Results are kept on the sender (`dns_report`) and shown on its page.
"""

from __future__ import annotations

import dns.exception
import dns.resolver
from django.conf import settings
from django.utils import timezone

from campaigns import dkim_keys

TIMEOUT = 4.0


def resolver() -> dns.resolver.Resolver:
    if not settings.DNS_NAMESERVERS:
        made = dns.resolver.Resolver()
    else:
        made = dns.resolver.Resolver(configure=False)
        made.nameservers = []
        for entry in settings.DNS_NAMESERVERS:
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            made.nameservers.append(host)
            if port:
                made.port = int(port)
    made.lifetime = TIMEOUT
    made.timeout = TIMEOUT
    return made


def txt_records(name: str, res: dns.resolver.Resolver | None = None) -> tuple[list[str], str]:
    """(records, error): the TXT strings at `name`; error "" when the lookup worked (even
    with no record), else why it failed."""
    try:
        answer = (res or resolver()).resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return [], ""
    except dns.exception.Timeout:
        return [], "The DNS lookup timed out."
    except dns.exception.DNSException as exc:
        return [], f"The DNS lookup failed: {exc.__class__.__name__}."
    records = []
    for rdata in answer:
        records.append(b"".join(rdata.strings).decode("utf-8", "replace"))
    return records, ""


def check_spf(domain: str, res) -> dict:
    records, error = txt_records(domain, res)
    spf = [r for r in records if r.lower().startswith("v=spf1")]
    if error:
        return {"status": "unknown", "records": [], "advice": error}
    if not spf:
        return {
            "status": "missing",
            "records": [],
            "advice": f"Publish a TXT record at {domain} starting with “v=spf1” that includes "
            "your mail server (for example “v=spf1 include:_spf.yourprovider.com ~all”).",
        }
    if len(spf) > 1:
        return {
            "status": "error",
            "records": spf,
            "advice": "There is more than one SPF record; receivers treat that as an error. "
            "Merge them into one.",
        }
    record = spf[0]
    if record.rstrip().endswith("+all") or " +all" in record:
        return {
            "status": "weak",
            "records": spf,
            "advice": "“+all” lets any server send as your domain: end with “~all” or “-all”.",
        }
    return {"status": "ok", "records": spf, "advice": ""}


def check_dmarc(domain: str, res) -> dict:
    records, error = txt_records(f"_dmarc.{domain}", res)
    dmarc = [r for r in records if r.lower().startswith("v=dmarc1")]
    if error:
        return {"status": "unknown", "records": [], "advice": error}
    if not dmarc:
        return {
            "status": "missing",
            "records": [],
            "advice": f"Publish a TXT record at _dmarc.{domain}, for example "
            f"“v=DMARC1; p=none; rua=mailto:dmarc@{domain}”, then tighten to quarantine.",
        }
    tags = {
        part.split("=", 1)[0].strip().lower(): part.split("=", 1)[1].strip()
        for part in dmarc[0].split(";")
        if "=" in part
    }
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return {
            "status": "error",
            "records": dmarc,
            "advice": "The DMARC record has no valid p= policy.",
        }
    advice = (
        ""
        if policy != "none"
        else "Policy p=none only reports; move to quarantine once mail passes."
    )
    return {"status": "ok", "records": dmarc, "policy": policy, "advice": advice}


def check_dkim(domain: str, selector: str, public_key_b64: str, res) -> dict:
    if not selector:
        return {
            "status": "missing",
            "records": [],
            "advice": "No DKIM key yet: generate one on this page and publish its TXT record.",
        }
    name = f"{selector}._domainkey.{domain}"
    records, error = txt_records(name, res)
    if error:
        return {"status": "unknown", "records": [], "name": name, "advice": error}
    dkim = [r for r in records if "p=" in r]
    if not dkim:
        return {
            "status": "missing",
            "records": [],
            "name": name,
            "advice": f"Publish the TXT record shown below at {name}.",
        }
    published = dkim_keys.public_key_of_record(dkim[0])
    if public_key_b64 and published != public_key_b64:
        return {
            "status": "error",
            "records": dkim,
            "name": name,
            "advice": f"The key published at {name} is not this sender's: publish the record below.",
        }
    return {"status": "ok", "records": dkim, "name": name, "advice": ""}


def check_sender(sender, res: dns.resolver.Resolver | None = None) -> dict:
    """Look up the sender's domain and keep the report on it."""
    res = res or resolver()
    domain = sender.domain
    public = dkim_keys.public_key_b64(sender) if sender.dkim_private_key_encrypted else ""
    report = {
        "checked_at": timezone.now().isoformat(),
        "domain": domain,
        "spf": check_spf(domain, res),
        "dkim": check_dkim(domain, sender.dkim_selector, public, res),
        "dmarc": check_dmarc(domain, res),
    }
    sender.dns_report = report
    sender.save(update_fields=["dns_report"])
    return report
