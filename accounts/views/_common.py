"""Helpers shared by the accounts HTML views: full page or fragment, and toasts over HTMX."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
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
