"""Merging duplicate leads and companies: one record stays, everything that pointed at the
other is moved to it, the other is deleted.

Related rows are found through the model's reverse relations (hidden ones included), so a
model added later with a foreign key to Lead or Company (campaign enrollments, say) is moved
without changes here; rows that would break a unique constraint on the kept record (the same
tag twice) are dropped instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import events
from accounts.models import User
from leads import scoring, services
from leads.models import ActivityKind, Company, Lead

# Lead fields a person chooses between on the merge screen (status goes through set_status).
MERGE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company",
    "linkedin_url",
    "location",
    "source",
    "status",
    "owner",
)
COMPANY_FIELDS = (
    "name",
    "domain",
    "website",
    "industry",
    "size_range",
    "location",
    "description",
    "linkedin_url",
)


class MergeError(ValueError):
    pass


def reverse_foreign_keys(model: type[models.Model]):
    """(related model, fk field name) for every foreign key pointing at `model`, including
    relations declared with related_name="+", and the auto-created tables of M2M fields."""
    for rel in model._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete:
            continue
        if rel.one_to_many or rel.one_to_one:
            yield rel.related_model, rel.field.name
        elif rel.many_to_many and rel.through._meta.auto_created:
            through = rel.through
            for fk in through._meta.fields:
                if fk.is_relation and fk.related_model is model:
                    yield through, fk.name


def _unique_sets(related: type[models.Model], fk_name: str) -> list[tuple[str, ...]]:
    """The other fields of each unique constraint that includes `fk_name`."""
    sets = []
    field = related._meta.get_field(fk_name)
    if field.unique:
        sets.append(())
    for together in related._meta.unique_together:
        if fk_name in together:
            sets.append(tuple(f for f in together if f != fk_name))
    for constraint in related._meta.total_unique_constraints:
        if fk_name in constraint.fields:
            sets.append(tuple(f for f in constraint.fields if f != fk_name))
    return sets


def repoint(model: type[models.Model], *, keep: models.Model, other: models.Model) -> dict:
    """Move every row pointing at `other` to `keep`. Returns {model label: rows moved}."""
    moved: dict[str, int] = {}
    for related, fk_name in reverse_foreign_keys(model):
        rows = related._default_manager.filter(**{fk_name: other})
        for others in _unique_sets(related, fk_name):
            kept_rows = related._default_manager.filter(**{fk_name: keep})
            if others:
                taken = set(kept_rows.values_list(*others))
            else:  # one row per lead: the kept lead's own row wins
                taken = {()} if kept_rows.exists() else set()
            if not taken:
                continue
            clash = [
                pk for pk, *values in rows.values_list("pk", *others) if tuple(values) in taken
            ]
            if clash:
                related._default_manager.filter(pk__in=clash).delete()
        count = rows.update(**{fk_name: keep})
        if count:
            moved[related._meta.label] = count
    return moved


def merge_leads(*, keep: Lead, other: Lead, fields: dict[str, str], actor: User | None) -> Lead:
    """Merge `other` into `keep`. `fields` maps a MERGE_FIELDS name to "keep" or "other"
    (missing ones keep `keep`'s value). Custom fields and external ids are combined (kept
    lead's values win). Records a MERGE activity and emits `lead.merged`. Atomic."""
    if keep.pk == other.pk:
        raise MergeError("A lead cannot be merged into itself.")
    if keep.organization_id != other.organization_id:
        raise MergeError("Both leads must belong to the same organization.")
    unknown = sorted(set(fields) - set(MERGE_FIELDS))
    if unknown or any(v not in ("keep", "other") for v in fields.values()):
        raise MergeError(f"Unknown merge choices: {', '.join(unknown) or 'use keep or other'}.")
    taken = [name for name, side in fields.items() if side == "other"]
    with transaction.atomic():
        keep = Lead.objects.select_for_update().select_related("organization").get(pk=keep.pk)
        other = Lead.objects.select_for_update().get(pk=other.pk)
        snapshot = services.lead_payload(other)
        updates: dict[str, Any] = {}
        for name in taken:
            if name == "status":
                continue
            if name == "phone":
                updates["phone"], updates["phone_raw"] = other.phone, other.phone_raw
            elif name in ("company", "owner"):
                updates[f"{name}_id"] = getattr(other, f"{name}_id")
            else:
                updates[name] = getattr(other, name)
        updates["custom_fields"] = (other.custom_fields or {}) | (keep.custom_fields or {})
        updates["external_ids"] = (other.external_ids or {}) | (keep.external_ids or {})
        updates["created_at"] = min(keep.created_at, other.created_at)
        for name in ("converted_at", "last_contacted_at"):
            dates = [d for d in (getattr(keep, name), getattr(other, name)) if d]
            updates[name] = max(dates) if dates else None
        moved = repoint(Lead, keep=keep, other=other)
        other_id = other.pk
        # Deleted before the kept lead takes its email: one active lead per address.
        other.delete()
        for name, value in updates.items():
            setattr(keep, name, value)
        keep.updated_at = timezone.now()
        keep.save(update_fields=[*updates, "updated_at"])
        if "status" in taken and snapshot["status"] != keep.status:
            services.set_status(lead=keep, status=snapshot["status"], actor=actor)
        keep = Lead.objects.select_related("company", "owner", "organization").get(pk=keep.pk)
        scoring.rescore_lead(keep)
        services.add_activity(
            lead=keep,
            kind=ActivityKind.MERGE,
            actor=actor,
            body=f"Merged {snapshot['email'] or 'lead #' + str(other_id)} into this lead.",
            data={"merged_lead": snapshot, "fields_taken": taken, "moved": moved},
        )
        events.emit(
            keep.organization,
            "lead.merged",
            {"id": keep.pk, "merged_id": other_id, "fields_taken": taken},
            actor=actor,
        )
    return keep


def merge_companies(*, keep: Company, other: Company, actor: User | None) -> Company:
    """Merge company `other` into `keep`: its leads (and anything else pointing at it) move,
    `keep`'s empty fields take `other`'s values, `other` is deleted. Emits `company.merged`."""
    if keep.pk == other.pk:
        raise MergeError("A company cannot be merged into itself.")
    if keep.organization_id != other.organization_id:
        raise MergeError("Both companies must belong to the same organization.")
    with transaction.atomic():
        keep = Company.objects.select_for_update().select_related("organization").get(pk=keep.pk)
        other = Company.objects.select_for_update().get(pk=other.pk)
        filled = [
            name for name in COMPANY_FIELDS if not getattr(keep, name) and getattr(other, name)
        ]
        values = {name: getattr(other, name) for name in filled}
        enriched = (other.enriched_data or {}) | (keep.enriched_data or {})
        moved = repoint(Company, keep=keep, other=other)
        other_id, other_name = other.pk, other.name
        other.delete()
        for name, value in values.items():
            setattr(keep, name, value)
        keep.enriched_data = enriched
        keep.save(update_fields=[*filled, "enriched_data", "updated_at"])
        scoring.rescore_company_leads(keep)
        events.emit(
            keep.organization,
            "company.merged",
            {"id": keep.pk, "merged_id": other_id, "merged_name": other_name, "moved": moved},
            actor=actor,
        )
    return keep


# ---------------------------------------------------------------- finding duplicates

DUPLICATE_GROUPS_SHOWN = 50
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "plc", "corp",
        "corporation", "co", "company", "gmbh", "ag", "kg", "sa", "sas", "sarl", "sl", "srl",
        "spa", "bv", "nv", "oy", "ab", "as", "aps", "pty", "pte", "kk", "se",
    }
)  # fmt: skip
_PUNCTUATION = re.compile(r"[^\w\s]+")


def normalized_company_name(name: str) -> str:
    """ "Acme, Inc." and "ACME Inc" -> "acme": lower case, punctuation and legal suffixes
    ("Inc", "LLC", "GmbH", "S.A.") removed."""
    words = _PUNCTUATION.sub(lambda m: "" if "." in m.group() else " ", name.lower()).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


@dataclass
class DuplicateGroup:
    reason: str
    key: str
    records: list = field(default_factory=list)


def duplicate_lead_groups(organization, limit: int = DUPLICATE_GROUPS_SHOWN):
    """Groups of active leads that are likely one person: the same email (case-insensitively),
    the same first and last name at the same company domain, the same phone. Each kind is
    one GROUP BY query for the keys and one query for the leads in those groups."""
    active = Lead.objects.for_org(organization).active()
    groups: list[DuplicateGroup] = []

    emails = list(
        active.exclude(email="")
        .annotate(key=Lower("email"))
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "key")
        .values_list("key", flat=True)[:limit]
    )
    names = list(
        active.exclude(first_name="")
        .exclude(last_name="")
        .exclude(company__domain="")
        .filter(company__isnull=False)
        .annotate(first=Lower("first_name"), last=Lower("last_name"), domain=F("company__domain"))
        .values("first", "last", "domain")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "last", "first")
        .values_list("first", "last", "domain")[:limit]
    )
    phones = list(
        active.exclude(phone="")
        .values("phone")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "phone")
        .values_list("phone", flat=True)[:limit]
    )
    if not (emails or names or phones):
        return groups
    condition = Q(lemail__in=emails) | Q(phone__in=phones)
    for first, last, domain in names:
        condition |= Q(lfirst=first, llast=last, company__domain=domain)
    leads = list(
        active.annotate(lemail=Lower("email"), lfirst=Lower("first_name"), llast=Lower("last_name"))
        .filter(condition)
        .select_related("company", "owner")
        .order_by("created_at", "pk")
    )
    by_email: dict[str, DuplicateGroup] = {e: DuplicateGroup("Same email", e) for e in emails}
    by_name = {
        key: DuplicateGroup("Same name and company", f"{key[0]} {key[1]} at {key[2]}")
        for key in names
    }
    by_phone = {p: DuplicateGroup("Same phone", p) for p in phones}
    for lead in leads:
        if lead.lemail in by_email:
            by_email[lead.lemail].records.append(lead)
        name_key = (lead.lfirst, lead.llast, lead.company.domain if lead.company else "")
        if name_key in by_name:
            by_name[name_key].records.append(lead)
        if lead.phone in by_phone:
            by_phone[lead.phone].records.append(lead)
    for found in (by_email, by_name, by_phone):
        groups.extend(g for g in found.values() if len(g.records) > 1)
    return groups


def duplicate_company_groups(organization, limit: int = DUPLICATE_GROUPS_SHOWN):
    """Groups of companies that are likely one: the same domain (case-insensitively), or the
    same name once punctuation and legal suffixes are removed. The names are read as
    (id, name) pairs in one pass and grouped in a dict: linear, never pairwise."""
    companies = Company.objects.for_org(organization)
    domains = list(
        companies.exclude(domain="")
        .annotate(key=Lower("domain"))
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "key")
        .values_list("key", flat=True)[:limit]
    )
    by_name: dict[str, list[int]] = {}
    for pk, name in companies.values_list("pk", "name").iterator(chunk_size=5000):
        key = normalized_company_name(name)
        if key:
            by_name.setdefault(key, []).append(pk)
    names = {k: ids for k, ids in by_name.items() if len(ids) > 1}
    names = dict(sorted(names.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit])
    wanted = {pk for ids in names.values() for pk in ids}
    if not (domains or wanted):
        return []
    rows = list(
        companies.annotate(ldomain=Lower("domain"), lead_count=Count("leads"))
        .filter(Q(ldomain__in=domains) | Q(pk__in=wanted))
        .order_by("created_at", "pk")
    )
    by_pk = {c.pk: c for c in rows}
    groups = [DuplicateGroup("Same domain", d) for d in domains]
    for group in groups:
        group.records = [c for c in rows if c.ldomain == group.key]
    for key, ids in names.items():
        records = sorted(
            (by_pk[pk] for pk in ids if pk in by_pk), key=lambda c: (c.created_at, c.pk)
        )
        if len(records) > 1 and not any(
            g.reason == "Same domain" and {c.pk for c in g.records} == {c.pk for c in records}
            for g in groups
        ):
            groups.append(DuplicateGroup("Similar name", key, records))
    return [g for g in groups if len(g.records) > 1]
