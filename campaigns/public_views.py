"""Public pages reached from campaign email (no login). Built by the tracking slice."""

from __future__ import annotations

from django.http import Http404


def unsubscribe(request, token: str):
    raise Http404("Not built yet")


def open_pixel(request, token: str):
    raise Http404("Not built yet")


def click(request, token: str):
    raise Http404("Not built yet")
