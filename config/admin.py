"""The staff admin: signs in through allauth (rate-limited, two-factor) and never by its own
password form."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin


class AdminSite(admin.AdminSite):
    site_header = "Prospector staff"
    site_title = "Prospector staff"
    index_title = "Administration"

    def login(self, request, extra_context=None):
        return secure_admin_login(super().login)(request, extra_context)
