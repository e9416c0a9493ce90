from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Access, Membership, Role, Scope, WebhookEndpoint


class SignupExtraForm(forms.Form):
    """Fields allauth's signup form gains: the person's name and their organization."""

    name = forms.CharField(max_length=150, label="Your name", widget=forms.TextInput(
        attrs={"autocomplete": "name", "placeholder": "Ada Lovelace"}
    ))
    organization_name = forms.CharField(
        max_length=120,
        label="Organization name",
        widget=forms.TextInput(attrs={"autocomplete": "organization", "placeholder": "Acme Inc."}),
    )

    field_order = ["name", "email", "organization_name", "password1"]

    def signup(self, request, user) -> None:
        from accounts.services import create_organization

        user.name = self.cleaned_data["name"].strip()
        user.save(update_fields=["name"])
        create_organization(name=self.cleaned_data["organization_name"], owner=user)


class InviteForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"placeholder": "teammate@company.com"}))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args, organization=None, inviter: Membership | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.inviter = inviter

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.for_org(self.organization).filter(user__email__iexact=email).exists():
            raise ValidationError("This person is already a member.")
        return email

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if role == Role.OWNER and self.inviter and self.inviter.role != Role.OWNER:
            raise ValidationError("Only an owner can invite another owner.")
        return role


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


SCOPE_CHOICES = [("", "No access"), *Access.choices]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "Zapier sync"}))
    expires_at = forms.DateField(
        required=False,
        label="Expires on",
        help_text="Leave empty for a key that does not expire.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for family, label in Scope.choices:
            self.fields[f"scope_{family}"] = forms.ChoiceField(
                label=label, choices=SCOPE_CHOICES, required=False,
                initial=Access.WRITE if family != Scope.ORGANIZATION else "",
            )

    def scope_fields(self):
        return [self[f"scope_{family}"] for family in Scope.values]

    def clean_expires_at(self):
        from django.utils import timezone

        value = self.cleaned_data["expires_at"]
        if value and value <= timezone.localdate():
            raise ValidationError("Choose a date in the future.")
        return value

    def clean(self):
        cleaned = super().clean()
        scopes = {
            family: cleaned.get(f"scope_{family}")
            for family in Scope.values
            if cleaned.get(f"scope_{family}")
        }
        if not scopes:
            raise ValidationError("Give the key access to at least one area.")
        cleaned["scopes"] = scopes
        return cleaned


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Leave all unticked to receive every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types"]
        widgets = {"url": forms.URLInput(attrs={"placeholder": "https://example.com/hooks/prospector"})}

    def __init__(self, *args, **kwargs):
        from accounts.events import WEBHOOK_EVENT_TYPES

        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = sorted(WEBHOOK_EVENT_TYPES.items())

    def clean_url(self) -> str:
        from accounts.webhooks import check_webhook_url

        url = self.cleaned_data["url"]
        problem = check_webhook_url(url)
        if problem:
            raise ValidationError(problem)
        return url

    def clean_event_types(self) -> list[str]:
        return self.cleaned_data["event_types"] or ["*"]
