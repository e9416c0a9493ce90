"""One CSV row to lead fields: mapping, normalization and validation, without the database.

Used by the preview (first rows, problems shown before anything is written) and by the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from leads.importing.mapping import CUSTOM_PREFIX, EXTERNAL_PREFIX, normalize_header
from leads.models import CompanySize, Lead, Status
from leads.utils import (
    FREE_MAIL_DOMAINS,
    normalize_email,
    normalize_phone,
    registered_domain,
    split_full_name,
)

SKIPPED_PREFIX = "Skipped: "
_EMPTY_WORDS = {"n/a", "na", "-", "--", "none", "null", "nil", "unknown", "#n/a"}
_TAG_SPLIT = re.compile(r"\s*(?:,|;|\||:::)\s*")
_URL = URLValidator(schemes=["http", "https"])
_SCHEME = re.compile(r"^https?://", re.I)


class _EmailValidator(EmailValidator):
    """validate_email with the verdict on each domain kept: a file's addresses share a few
    company domains, and the domain's pattern is the costly half of the check."""

    def __init__(self) -> None:
        super().__init__()
        self.domains: dict[str, bool] = {}
        # The compiled patterns themselves: the class's lazy ones cost a proxy call per use.
        for name in ("user_regex", "domain_regex", "literal_regex"):
            lazy = getattr(EmailValidator, name)
            setattr(self, name, re.compile(lazy.pattern, lazy.flags))

    def validate_domain_part(self, domain_part: str) -> bool:
        valid = self.domains.get(domain_part)
        if valid is None:
            valid = super().validate_domain_part(domain_part)
            if len(self.domains) < 20_000:
                self.domains[domain_part] = valid
        return valid


validate_email = _EmailValidator()
_LEAD_FIELDS = ("first_name", "last_name", "email", "title", "linkedin_url", "location", "source")
MAX_LENGTHS = {name: Lead._meta.get_field(name).max_length for name in _LEAD_FIELDS}
_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "title": "Job title",
    "linkedin_url": "LinkedIn URL",
    "location": "Location",
    "source": "Lead source",
    "company": "Company name",
}
_SIZES = [
    (1, 10, CompanySize.S1),
    (11, 50, CompanySize.S11),
    (51, 200, CompanySize.S51),
    (201, 500, CompanySize.S201),
    (501, 1000, CompanySize.S501),
    (1001, 5000, CompanySize.S1001),
    (5001, 10000, CompanySize.S5001),
    (10001, 10**12, CompanySize.S10001),
]


# Status names of other CRMs' exports (HubSpot lead status and lifecycle stage, Salesforce
# and Zoho lead status, Pipedrive, Apollo), normalized like headers, -> pipeline status.
_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "new", "open", "opennotcontacted", "notcontacted", "subscriber", "lead",
            "unassigned", "cold", "notstarted", "fresh",
        ),
        Status.NEW,
    ),
    **dict.fromkeys(
        (
            "contacted", "attemptedtocontact", "workingcontacted", "working", "inprogress",
            "contactinfuture", "attempted", "emailed", "called", "outreach", "sequenced",
        ),
        Status.CONTACTED,
    ),
    **dict.fromkeys(
        ("replied", "connected", "responded", "engaged", "interested", "meetingbooked"),
        Status.REPLIED,
    ),
    **dict.fromkeys(
        (
            "qualified", "marketingqualifiedlead", "salesqualifiedlead", "mql", "sql",
            "opportunity", "opendeal", "prequalified",
        ),
        Status.QUALIFIED,
    ),
    **dict.fromkeys(
        ("converted", "closedconverted", "customer", "won", "closedwon", "evangelist"),
        Status.CONVERTED,
    ),
    **dict.fromkeys(
        (
            "lost", "unqualified", "closednotconverted", "closedlost", "disqualified",
            "junklead", "junk", "badtiming", "notinterested", "lostlead",
        ),
        Status.LOST,
    ),
}  # fmt: skip


def pipeline_status(value: str) -> str:
    """The pipeline status another CRM's status name means, or "" when none does."""
    key = normalize_header(value)
    return _STATUS_WORDS.get(key, key if key in Status.values else "")


# The same company's website and email host come back on many rows of a file.
_registered_domain = lru_cache(maxsize=20_000)(registered_domain)
# Parsing a phone number is the costliest step of a row; switchboards and shared lines repeat.
_normalize_phone = lru_cache(maxsize=20_000)(normalize_phone)


def _email_domain(email: str) -> str:
    """company_domain_from_email, with the public-suffix lookup cached per host."""
    if "@" not in email:
        return ""
    domain = _registered_domain(email.rsplit("@", 1)[1])
    return "" if domain in FREE_MAIL_DOMAINS else domain


@dataclass(slots=True)
class ParsedRow:
    line: int
    cells: list[str]
    fields: dict[str, Any] = field(default_factory=dict)
    company_name: str = ""
    domain: str = ""
    website: str = ""
    industry: str = ""
    company_size: str = ""
    tags: list[str] = field(default_factory=list)
    # Worth telling the user, but the row still imports (an unreadable phone is kept raw).
    problems: list[str] = field(default_factory=list)
    # Decided later: "create", "update", "skip" or "fail", with the reason for the last two.
    action: str = ""
    reason: str = ""
    existing: Lead | None = None
    company_id: int | None = None
    # Set with `fields` once the row is parsed: fields["email"], and (lower first name,
    # lower last name, company domain) when the row has all three.
    email: str = ""
    name_key: tuple[str, str, str] | None = None

    def fail(self, reason: str) -> ParsedRow:
        self.action, self.reason = "fail", reason
        return self

    def skip(self, reason: str) -> ParsedRow:
        self.action, self.reason = "skip", reason
        return self


def _clean(value: str) -> str:
    return " ".join(value.split())


def _url(value: str) -> str:
    value = value.strip()
    if not value or value.lower() in _EMPTY_WORDS:
        return ""
    if not _SCHEME.match(value):
        value = "https://" + value.lstrip("/")
    return value


def _size_range(value: str) -> str:
    text = value.strip().replace(",", "").replace(".", "").replace(" ", "")
    for choice in CompanySize:
        if text == choice.value.replace(",", ""):
            return choice.value
    digits = re.findall(r"\d+", text)
    if not digits:
        return ""
    count = int(digits[-1]) if "-" in text else int(digits[0])
    for low, high, choice in _SIZES:
        if low <= count <= high:
            return choice.value
    return ""


def split_tags(value: str) -> list[str]:
    tags = []
    for part in _TAG_SPLIT.split(value or ""):
        part = part.strip().lstrip("*").strip()
        if part and part.lower() != "mycontacts":
            tags.append(part[:50])
    return tags


@lru_cache(maxsize=64)
def _column_plan(
    columns: tuple[tuple[int, str], ...],
) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...], tuple, tuple]:
    """A file's columns sorted once by what they fill: lead and company fields (index,
    target), tags (index), custom fields and external ids (index, key); each in file order."""
    plain, tags, custom, external = [], [], [], []
    for index, target in columns:
        if target == "tags":
            tags.append(index)
        elif target.startswith(CUSTOM_PREFIX):
            custom.append((index, target.removeprefix(CUSTOM_PREFIX)))
        elif target.startswith(EXTERNAL_PREFIX):
            external.append((index, target.removeprefix(EXTERNAL_PREFIX)))
        else:
            plain.append((index, target))
    return tuple(plain), tuple(tags), tuple(custom), tuple(external)


def _first_values(cells: list[str], columns: tuple[tuple[int, str], ...]) -> dict[str, str]:
    """{key: the first non-empty value of the key's columns}."""
    found: dict[str, str] = {}
    for index, key in columns:
        if index < len(cells) and key not in found:
            value = cells[index].strip()
            if value:
                found[key] = value
    return found


def parse_row(
    line: int,
    cells: list[str],
    *,
    header_count: int,
    columns: list[tuple[int, str]],
    default_source: str = "",
    default_region: str | None = None,
) -> ParsedRow:
    """Map and normalize one record. `columns` is [(cell index, target)] for mapped columns;
    when several columns share a target the first non-empty value wins (a work email
    before a home email). The row's action is "fail" or "skip" when it cannot be imported."""
    row = ParsedRow(line=line, cells=cells)
    if not "".join(cells).strip():
        return row.skip(SKIPPED_PREFIX + "the row is empty")
    if len(cells) > header_count and any(cell.strip() for cell in cells[header_count:]):
        return row.fail(
            f"The row has {len(cells)} cells but the header has {header_count} columns "
            "(a separator or quote is probably missing), so its values cannot be matched "
            "to columns"
        )
    plain, tag_columns, custom_columns, external_columns = _column_plan(tuple(columns))
    count = len(cells)
    values: dict[str, str] = {}
    for index, target in plain:
        if index < count and target not in values:
            value = cells[index].strip()
            if value:
                values[target] = value
    tags: list[str] = []
    for index in tag_columns:
        if index < count and cells[index].strip():
            tags += split_tags(cells[index].strip())
    custom = _first_values(cells, custom_columns) if custom_columns else {}
    external = _first_values(cells, external_columns) if external_columns else {}

    fields: dict[str, Any] = {}
    first, last = _clean(values.get("first_name", "")), _clean(values.get("last_name", ""))
    if not (first or last) and values.get("full_name"):
        first, last = split_full_name(values["full_name"])
    if first:
        fields["first_name"] = first
    if last:
        fields["last_name"] = last
    email = normalize_email(values.get("email", ""))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return row.fail(f"The email address {values['email']!r} is not valid")
        fields["email"] = email
    if not email and not (first or last):
        return row.fail("The row has no email address and no name; a lead needs one of them")
    phone_raw = values.get("phone", "")
    if phone_raw and phone_raw.lower() not in _EMPTY_WORDS:
        fields["phone_raw"] = phone_raw[:50]
        fields["phone"] = _normalize_phone(phone_raw, default_region)
        if not fields["phone"]:
            row.problems.append(
                f"The phone {phone_raw!r} is not a full international number; it is kept as typed"
            )
    for name in ("title", "source"):
        if values.get(name):
            fields[name] = _clean(values[name])
    location = values.get("location") or ", ".join(
        [_clean(values[part]) for part in ("city", "state", "country") if part in values]
    )
    if location:
        fields["location"] = _clean(location)
    linkedin = _url(values.get("linkedin_url", ""))
    if linkedin:
        try:
            _URL(linkedin)
        except ValidationError:
            return row.fail(f"The LinkedIn URL {values['linkedin_url']!r} is not a valid link")
        fields["linkedin_url"] = linkedin
    if default_source and not fields.get("source"):
        fields["source"] = default_source
    if values.get("status"):
        status = pipeline_status(values["status"])
        if status:
            fields["status"] = status
        else:
            row.problems.append(
                f"The status {values['status']!r} matches no pipeline stage; a new lead "
                "starts as New"
            )
    if custom:
        fields["custom_fields"] = custom
    if external:
        fields["external_ids"] = external
    for name, limit in MAX_LENGTHS.items():
        if len(fields.get(name, "")) > limit:
            return row.fail(f"{_LABELS[name]} is longer than {limit} characters")

    row.company_name = _clean(values.get("company", ""))
    if len(row.company_name) > 200:
        return row.fail(f"{_LABELS['company']} is longer than 200 characters")
    website = _url(values.get("website", ""))
    website_domain = _registered_domain(website) if website else ""
    row.domain = website_domain or _email_domain(email)
    row.website = website if website_domain else ""
    row.industry = _clean(values.get("industry", ""))[:120]
    if values.get("company_size"):
        row.company_size = _size_range(values["company_size"])
        if not row.company_size:
            row.problems.append(f"The company size {values['company_size']!r} is not a number")
    row.tags = tags
    row.fields = fields
    row.email = email
    if first and last and row.domain:
        row.name_key = (first.lower(), last.lower(), row.domain)
    return row
