"""Page helpers for every app's HTML views: full page or fragment, toasts over HTMX,
redirect-after-POST. Public: leads and later apps import them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib import messages
from django.db.models import Expression, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event


def with_toasts(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Move pending flash messages into an `HX-Trigger: toast` event for static/js/app.js.

    A fragment has no toast region of its own; reading the messages here also stops them
    from showing up again on the next full page.
    """
    toasts = [{"message": str(m), "level": m.level_tag} for m in messages.get_messages(request)]
    if toasts:
        trigger_client_event(response, "toast", {"messages": toasts})
    return response


def page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The full page, or for an HTMX request only `fragment` of it (the view picks which)."""
    if request.htmx and fragment:
        response = render(request, f"{template}#{fragment}", context, status=status)
        return with_toasts(request, response)
    return render(request, template, context, status=status)


def done(request: HttpRequest, to: str, *args: Any, **kwargs: Any) -> HttpResponse:
    """After a mutation that leaves the page: a redirect, or HX-Redirect for HTMX."""
    response = redirect(to, *args, **kwargs)
    if request.htmx:
        return HttpResponseClientRedirect(response.url)
    return response


def sort_order(
    request: HttpRequest,
    options: Mapping[str, Sequence[str | Expression]],
    default: str,
) -> tuple[str, list[Expression]]:
    """The table's sort from `?sort=key` (`-key` descending), limited to `options`.

    Returns the sort as the page shows it (for `{% sort_header %}`) and the `order_by`
    arguments. Unknown keys fall back to `default`; empty values sort last either way.
    """
    sort = request.GET.get("sort", default)
    if sort.lstrip("-") not in options:
        sort = default
    descending = sort.startswith("-")
    order = []
    for field in options[sort.lstrip("-")]:
        expression = F(field) if isinstance(field, str) else field
        order.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    return sort, order
