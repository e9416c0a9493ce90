from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        return super().get_login_redirect_url(request) or reverse("home")

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        name = form.cleaned_data.get("name")
        if name:
            user.name = name.strip()
        if commit:
            user.save()
        return user
