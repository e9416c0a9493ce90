"""Campaign numbers a rep can trust: counted by the database from the message log and the
enrollments (a handful of aggregate queries, whatever the size of the campaign)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from campaigns.models import Campaign, Enrollment, EnrollmentStatus, Message, MessageStatus

SENT = Q(sent_at__isnull=False)
COUNTS = {
    "sent": Count("pk", filter=SENT),
    "delivered": Count("pk", filter=SENT & ~Q(status__in=[MessageStatus.BOUNCED])),
    "opened": Count("pk", filter=Q(opened_at__isnull=False)),
    "clicked": Count("pk", filter=Q(clicked_at__isnull=False)),
    "replied": Count("pk", filter=Q(replied_at__isnull=False)),
    "bounced": Count("pk", filter=Q(status=MessageStatus.BOUNCED)),
    "complained": Count("pk", filter=Q(status=MessageStatus.COMPLAINED)),
    "failed": Count("pk", filter=Q(status=MessageStatus.FAILED)),
    "queued": Count("pk", filter=Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])),
}
RATES = ("delivered", "opened", "clicked", "replied", "bounced")


def with_rates(row: dict) -> dict:
    sent = row.get("sent") or 0
    row["rates"] = {
        name: (round(100 * row.get(name, 0) / sent, 1) if sent else None) for name in RATES
    }
    return row


def campaign_stats(campaign: Campaign) -> dict:
    messages = Message.objects.filter(campaign=campaign)
    totals = messages.aggregate(**COUNTS)
    enrollment = Enrollment.objects.filter(campaign=campaign).aggregate(
        enrolled=Count("pk"),
        active=Count("pk", filter=Q(status=EnrollmentStatus.ACTIVE)),
        completed=Count("pk", filter=Q(status=EnrollmentStatus.COMPLETED)),
        unsubscribed=Count("pk", filter=Q(status=EnrollmentStatus.UNSUBSCRIBED)),
        stopped=Count("pk", filter=Q(status=EnrollmentStatus.STOPPED)),
    )
    steps = {step.pk: step for step in campaign.steps.all()}
    per_step: dict[int, dict] = {}
    for row in (
        messages.values("step_id", "variant").annotate(**COUNTS).order_by("step_id", "variant")
    ):
        step = steps.get(row["step_id"])
        if step is None:
            continue
        entry = per_step.setdefault(
            step.pk,
            {"step_id": step.pk, "order": step.order, "subject": step.subject, "variants": []},
        )
        variant = with_rates({k: row[k] for k in COUNTS} | {"variant": row["variant"] or "A"})
        entry["variants"].append(variant)
    step_rows = []
    for step in steps.values():
        entry = per_step.get(
            step.pk,
            {"step_id": step.pk, "order": step.order, "subject": step.subject, "variants": []},
        )
        summed = {name: sum(v[name] for v in entry["variants"]) for name in COUNTS}
        step_rows.append(with_rates(entry | summed))
    by_day = [
        {
            "date": row["day"].isoformat(),
            "sent": row["sent"],
            "opened": row["opened"],
            "clicked": row["clicked"],
            "replied": row["replied"],
        }
        for row in messages.filter(SENT)
        .annotate(day=TruncDate("sent_at"))
        .values("day")
        .annotate(
            sent=Count("pk"),
            opened=COUNTS["opened"],
            clicked=COUNTS["clicked"],
            replied=COUNTS["replied"],
        )
        .order_by("day")
    ]
    return with_rates(totals | enrollment) | {"steps": step_rows, "by_day": by_day}
