"""Staff must have two-factor authentication before they reach /admin/."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


class StaffMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        user = getattr(request, "user", None)
        if (
            request.path.startswith(self.admin_prefix)
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request,
                "Staff need two-factor authentication to open the admin. Set up an "
                "authenticator app first.",
            )
            # Encoded: a path holding "&next=..." must not add a parameter of its own.
            query = urlencode({"next": request.path})
            return redirect(f"{reverse('mfa_activate_totp')}?{query}")
        return self.get_response(request)
