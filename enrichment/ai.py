"""The one door from enrichment to an AI model.

`fill_profile` takes the evidence the pipeline gathered about a company and returns the
profile. Until the agents issue wires its provider layer (agents/llm/) in here, it is the
offline reconciler alone: rules over the structured data, meta tags, page text and search
snippets, every field labelled with the method that found it (never "ai"). Callers do not
change when a model arrives: the model then fills and corrects fields on top of the rules,
and those fields are labelled "ai".
"""

from __future__ import annotations

from typing import Any

from enrichment.reconcile import Profile, reconcile

# Shown on result pages and in the API so nobody mistakes rules for a model.
MODE = "offline"
MODE_LABEL = "Rules over the pages and search results (no AI model is connected yet)"


def fill_profile(evidence: dict[str, Any], *, organization=None) -> Profile:
    """The company profile from `evidence` (see enrichment.reconcile)."""
    return reconcile(evidence)
