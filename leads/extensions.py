"""Buttons that later apps add to leads pages, without leads importing those apps.

The import direction (accounts < leads < enrichment < campaigns < agents) keeps leads from
knowing what comes after it, yet a rep expects "Enrich companies" in the lead list's bulk bar
and "Enrich" on a company page. So a later app registers a `PageAction` here from its
AppConfig.ready(), and the leads templates render whatever is registered. The URL named by
`url_name` takes the organization's slug (and, for company actions, the company's id), and
receives a POST: the lead list's bulk form (ticked `ids` or `all=on`, the filters in the query
string), or an empty form for a company.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Role


@dataclass(frozen=True)
class PageAction:
    label: str
    url_name: str
    role: str = Role.MEMBER  # the least role that sees the button


@dataclass(frozen=True)
class LeadPanel:
    """A card a later app adds to the lead page. The page loads it after itself (HTMX
    GET of the URL named `url_name`, which takes the organization's slug and the lead's
    id), so the lead page costs the same however many panels there are; without
    JavaScript the card is a link to that URL."""

    title: str
    url_name: str


LEAD_PANELS: list[LeadPanel] = []
LEAD_BULK_ACTIONS: list[PageAction] = []
COMPANY_ACTIONS: list[PageAction] = []


def _register(registry: list[PageAction], action: PageAction) -> None:
    if all(existing.url_name != action.url_name for existing in registry):
        registry.append(action)


def register_lead_bulk_action(action: PageAction) -> None:
    _register(LEAD_BULK_ACTIONS, action)


def register_company_action(action: PageAction) -> None:
    _register(COMPANY_ACTIONS, action)


def register_lead_panel(panel: LeadPanel) -> None:
    if all(existing.url_name != panel.url_name for existing in LEAD_PANELS):
        LEAD_PANELS.append(panel)


def actions_for(registry: list[PageAction], membership) -> list[PageAction]:
    """The registered actions this member's role may use."""
    return [action for action in registry if membership.has_role(action.role)]
