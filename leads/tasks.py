"""django-q2 tasks of the leads app. Arguments are ids; bodies are idempotent and record
their progress on our own rows (ImportJob), never in django-q2's tables."""

from __future__ import annotations


def run_import(organization_id: int, job_id: int) -> str:
    """Import a queued CSV in chunks of rows (see leads.importing.running). Safe to run
    twice: a finished job is left alone and a running one resumes after its last chunk."""
    from leads.importing import run

    return run(organization_id, job_id).status


def revert_import(organization_id: int, job_id: int) -> str:
    """Undo an import marked `reverting`: created leads removed, updated fields put back.
    Idempotent: a reverted job is left alone, a half-reverted one carries on."""
    from leads.importing import revert

    return revert(organization_id, job_id)


def rescore_organization(organization_id: int, after_id: int = 0) -> int:
    """Recompute every lead's score after the scoring profile changed, in chunks of leads
    (bulk_update per chunk). Idempotent: scores are derived, so a rerun only rewrites what
    differs. Returns the number of leads whose score changed."""
    from accounts.models import Organization
    from leads.scoring import rescore_organization_chunk

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    changed, last = 0, after_id
    while last is not None:
        count, last = rescore_organization_chunk(organization, after_id=last)
        changed += count
    return changed
