"""The number of active leads per status of an organization, without counting them.

An exact `GROUP BY status` over an organization's leads reads every one of them: about 15 to
40 ms at 100,000 leads, on every board, list and API page. Instead, database triggers on
leads_lead write a `LeadCount` row (organization, status, +n or -n) for every statement that
changes which active leads are in which status, and a count is the sum of those rows: a few
rows after compaction, read through an index.

Triggers rather than code in the services, because leads also change through bulk_create,
queryset.update(), merges, erasure, imports and cascades: a trigger sees all of them, and a
count can never drift from the table. Rows are only inserted (never updated in place), so
two transactions that change leads of one organization never wait on the same row; compaction
folds them with one `DELETE ... RETURNING` (exactly the rows it removed are summed back in,
whatever commits meanwhile).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Sum

from leads.models import LeadCount

# More rows than this for one organization and reading the counts folds them first.
COMPACT_FROM = 200

_POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION leads_lead_count_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO leads_leadcount (organization_id, status, n)
        SELECT organization_id, status, count(*) FROM lead_count_new
        WHERE archived_at IS NULL GROUP BY 1, 2;
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO leads_leadcount (organization_id, status, n)
        SELECT organization_id, status, -count(*) FROM lead_count_old
        WHERE archived_at IS NULL GROUP BY 1, 2;
      ELSE
        INSERT INTO leads_leadcount (organization_id, status, n)
        SELECT organization_id, status, sum(change) FROM (
          SELECT organization_id, status, -1 AS change FROM lead_count_old
          WHERE archived_at IS NULL
          UNION ALL
          SELECT organization_id, status, 1 FROM lead_count_new WHERE archived_at IS NULL
        ) AS changes GROUP BY 1, 2 HAVING sum(change) <> 0;
      END IF;
      RETURN NULL;
    END $$
    """,
    # Transition tables allow one event per trigger, hence three.
    """
    CREATE OR REPLACE TRIGGER leads_lead_count_insert AFTER INSERT ON leads_lead
    REFERENCING NEW TABLE AS lead_count_new
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_count_changes()
    """,
    """
    CREATE OR REPLACE TRIGGER leads_lead_count_update AFTER UPDATE ON leads_lead
    REFERENCING OLD TABLE AS lead_count_old NEW TABLE AS lead_count_new
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_count_changes()
    """,
    """
    CREATE OR REPLACE TRIGGER leads_lead_count_delete AFTER DELETE ON leads_lead
    REFERENCING OLD TABLE AS lead_count_old
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_count_changes()
    """,
]

# SQLite has row-level triggers only. A changed status, archive state or organization takes
# the lead out of its old count and puts it into its new one.
_MOVED = (
    "(NEW.status IS NOT OLD.status OR NEW.organization_id IS NOT OLD.organization_id"
    " OR (NEW.archived_at IS NULL) <> (OLD.archived_at IS NULL))"
)
_SQLITE_TRIGGERS = {
    "leads_lead_count_insert": (
        "AFTER INSERT ON leads_lead WHEN NEW.archived_at IS NULL",
        "NEW.organization_id, NEW.status, 1",
    ),
    "leads_lead_count_delete": (
        "AFTER DELETE ON leads_lead WHEN OLD.archived_at IS NULL",
        "OLD.organization_id, OLD.status, -1",
    ),
    "leads_lead_count_update_from": (
        "AFTER UPDATE OF status, archived_at, organization_id ON leads_lead"
        f" WHEN OLD.archived_at IS NULL AND {_MOVED}",
        "OLD.organization_id, OLD.status, -1",
    ),
    "leads_lead_count_update_to": (
        "AFTER UPDATE OF status, archived_at, organization_id ON leads_lead"
        f" WHEN NEW.archived_at IS NULL AND {_MOVED}",
        "NEW.organization_id, NEW.status, 1",
    ),
}


def install_triggers(db: BaseDatabaseWrapper) -> None:
    """(Re)create the triggers with their current definition. Idempotent; run by migration
    0003 and after every migrate, because SQLite drops a table's triggers when a migration
    rebuilds the table."""
    if db.vendor == "postgresql":
        statements = _POSTGRESQL
    elif db.vendor == "sqlite":
        statements = []
        for name, (when, values) in _SQLITE_TRIGGERS.items():
            statements.append(f"DROP TRIGGER IF EXISTS {name}")
            statements.append(
                f"CREATE TRIGGER {name} {when} BEGIN INSERT INTO leads_leadcount"  # noqa: S608 (constants)
                f" (organization_id, status, n) VALUES ({values}); END"
            )
    else:  # pragma: no cover - the settings allow PostgreSQL and SQLite only
        raise NotImplementedError(f"No lead count triggers for {db.vendor}")
    with db.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_triggers(db: BaseDatabaseWrapper) -> None:
    """Remove the triggers (migration 0003 reversed)."""
    names = ["leads_lead_count_insert", "leads_lead_count_update", "leads_lead_count_delete"]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            for name in names:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON leads_lead")
            cursor.execute("DROP FUNCTION IF EXISTS leads_lead_count_changes()")
        else:
            for name in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def recount(organization_id: int | None = None, db: BaseDatabaseWrapper = connection) -> None:
    """Replace the counts (of one organization, or all) by an exact count of the leads.
    For the migration that introduces them and for repairs; normal work never needs it."""
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        if organization_id is None:
            cursor.execute("DELETE FROM leads_leadcount")
            cursor.execute(
                "INSERT INTO leads_leadcount (organization_id, status, n)"
                " SELECT organization_id, status, count(*) FROM leads_lead"
                " WHERE archived_at IS NULL GROUP BY organization_id, status"
            )
        else:
            cursor.execute(
                "DELETE FROM leads_leadcount WHERE organization_id = %s", [organization_id]
            )
            cursor.execute(
                "INSERT INTO leads_leadcount (organization_id, status, n)"
                " SELECT organization_id, status, count(*) FROM leads_lead"
                " WHERE archived_at IS NULL AND organization_id = %s"
                " GROUP BY organization_id, status",
                [organization_id],
            )


def compact(organization_id: int) -> None:
    """Fold an organization's rows into one per status (none for a zero count)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM leads_leadcount WHERE organization_id = %s RETURNING status, n",
            [organization_id],
        )
        totals: dict[str, int] = {}
        for status, n in cursor.fetchall():
            totals[status] = totals.get(status, 0) + n
        LeadCount.objects.bulk_create(
            LeadCount(organization_id=organization_id, status=status, n=n)
            for status, n in totals.items()
            if n
        )


def compact_all() -> int:
    """The periodic task: fold every organization with more than one row per status, and
    drop the rows of deleted organizations. Returns the number of organizations folded."""
    from accounts.models import Organization

    LeadCount.objects.exclude(organization_id__in=Organization.objects.values("pk")).delete()
    busy = (
        LeadCount.objects.values("organization_id", "status")
        .annotate(rows=Count("id"))
        .filter(rows__gt=1)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    organization_ids = list(busy)
    for organization_id in organization_ids:
        compact(organization_id)
    return len(organization_ids)


def status_counts(organization_id: int) -> dict[str, int]:
    """{status: number of active leads} of one organization (statuses without leads left
    out). One indexed query; folds the rows first when they have piled up."""
    rows = list(
        LeadCount.objects.filter(organization_id=organization_id)
        .values_list("status")
        .annotate(total=Sum("n"), rows=Count("id"))
        .order_by()
    )
    if sum(row[2] for row in rows) > COMPACT_FROM:
        compact(organization_id)
    return {status: total for status, total, _rows in rows if total}
