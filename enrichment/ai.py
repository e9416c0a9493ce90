"""The one door from enrichment to an AI model.

`fill_profile` reconciles the evidence the pipeline gathered with rules (enrichment.reconcile:
structured data, meta tags, page text and search snippets, every field labelled with the
method that found it). When the organization has a network AI model (the agents app connects
one, see `connect`), `refine_profile` then asks it to fill the fields the rules left empty
from the same evidence; each such field names the evidence URL it came from (fields whose
source is not one of the pages or search results read are dropped) and is labelled "ai".

Enrichment sits below agents, so it never imports it: agents registers a connector here from
its AppConfig.ready(). The connector is called in the job's own thread (it may read the
database: keys, budget); the model it returns does network work only, from any thread, and
`settle()`s what it spent back in the job's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from enrichment.reconcile import Profile, reconcile

if TYPE_CHECKING:
    from accounts.models import Organization

logger = logging.getLogger(__name__)

# Shown on result pages and in the API so nobody mistakes rules for a model.
MODE = "offline"
MODE_LABEL = "Rules over the pages and search results (no AI model is connected)"


class ProfileModel(Protocol):
    label: str  # "OpenAI gpt-4.1-mini"

    def refine(self, evidence: dict[str, Any], profile: Profile) -> str:
        """Fill empty fields of `profile` from `evidence`; a note of what was done. Network
        only (no database), safe from several threads at once; raises on failure."""
        ...

    def settle(self) -> None:
        """Meter what `refine` calls spent (called in the job's thread)."""
        ...


_connector: Callable[[Organization], ProfileModel | None] | None = None


def connect(connector: Callable[[Organization], ProfileModel | None]) -> None:
    """Register the function that gives an organization's profile model (or None)."""
    global _connector
    _connector = connector


def model_for(organization: Organization | None) -> ProfileModel | None:
    if organization is None or _connector is None:
        return None
    try:
        return _connector(organization)
    except Exception:  # no model is better than no enrichment
        logger.exception("enrichment: the AI connector failed")
        return None


def mode_label(organization: Organization | None) -> str:
    model = model_for(organization)
    if model is None:
        return MODE_LABEL
    return f"Rules over the pages and search results, then {model.label} for the fields they left empty"


def fill_profile(evidence: dict[str, Any], *, organization=None) -> Profile:
    """The company profile from `evidence` by rules (see enrichment.reconcile)."""
    return reconcile(evidence)


def refine_profile(model: ProfileModel, evidence: dict[str, Any], profile: Profile) -> dict:
    """The AI step: the model fills what the rules left empty (a step note back)."""
    return {"note": model.refine(evidence, profile)}


def reconciled_by(steps: list[dict] | None) -> str:
    """ "ai" when a model filled fields of this result, else "offline" (rules alone)."""
    ai_step = next((s for s in steps or [] if s.get("step") == "ai"), None)
    return "ai" if ai_step and ai_step.get("status") == "ok" else MODE


def result_label(steps: list[dict] | None) -> str:
    ai_step = next((s for s in steps or [] if s.get("step") == "ai"), None)
    if ai_step is None:
        return MODE_LABEL
    if ai_step.get("status") == "ok":
        return (
            f"Rules over the pages and search results, then an AI model: {ai_step.get('note', '')}"
        )
    return (
        f"Rules over the pages and search results (the AI step failed: {ai_step.get('note', '')})"
    )
