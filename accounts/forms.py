from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

import phonenumbers
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from phonenumbers import geocoder

from accounts.models import Access, Membership, Role, Scope, User, WebhookEndpoint


class SignupExtraForm(forms.Form):
    """Fields allauth's signup form gains: the person's name and their organization."""

    name = forms.CharField(
        max_length=150,
        label="Your name",
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Ada Lovelace"}),
    )
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


class OrganizationForm(forms.Form):
    name = forms.CharField(
        max_length=120,
        label="Organization name",
        widget=forms.TextInput(attrs={"autocomplete": "organization", "placeholder": "Acme Inc."}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Enter a name.")
        return name


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    """Every country phonenumbers knows, by English name: ("DE", "Germany (+49)")."""
    choices = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        code = phonenumbers.country_code_for_region(region)
        choices.append((region, f"{name or region} (+{code})"))
    return sorted(choices, key=lambda choice: choice[1])


class OrganizationSettingsForm(OrganizationForm):
    """The general settings: the name, the country of phone numbers typed without one, and
    the postal address campaign email carries."""

    default_country = forms.ChoiceField(
        required=False,
        label="Default country for phone numbers",
        help_text="Numbers typed or imported without a country code (“030 1234567”) are read "
        "as this country's. Without one, such numbers are kept as typed.",
    )

    postal_address = forms.CharField(
        required=False,
        max_length=500,
        label="Postal address",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown at the foot of every campaign email, as anti-spam laws (CAN-SPAM, "
        "and others) ask of commercial email.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_country"].choices = [("", "None"), *country_choices()]


class InvitationSignupForm(forms.Form):
    """A new account for an invited address: the email comes from the invitation."""

    name = forms.CharField(
        max_length=150,
        label="Your name",
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Ada Lovelace"}),
    )
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password.",
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        name = self.cleaned_data.get("name", "")
        password_validation.validate_password(password, User(email=self.email, name=name))
        return password


class InviteForm(forms.Form):
    # The column's length: a longer address passes EmailValidator (320) but not PostgreSQL.
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(
            attrs={"placeholder": "teammate@company.com", "autocomplete": "off"}
        ),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args, organization=None, inviter: Membership | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.inviter = inviter
        if inviter is not None and inviter.role != Role.OWNER:
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]

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
    """A new role for `target`, chosen by `actor`: only owners grant or take away ownership."""

    role = forms.ChoiceField(choices=Role.choices)

    def __init__(
        self, *args, actor: Membership | None = None, target: Membership | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.target = target

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        touches_owner = role == Role.OWNER or (self.target and self.target.role == Role.OWNER)
        if touches_owner and self.actor and self.actor.role != Role.OWNER:
            raise ValidationError("Only an owner can grant or change the owner role.")
        return role


SCOPE_CHOICES = [("", "No access"), *Access.choices]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Zapier sync", "autocomplete": "off"}),
    )
    expires_at = forms.DateField(
        required=False,
        label="Expires on",
        help_text="Leave empty for a key that never expires.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for family, label in Scope.choices:
            self.fields[f"scope_{family}"] = forms.ChoiceField(
                label=label,
                choices=SCOPE_CHOICES,
                required=False,
                initial=Access.WRITE if family != Scope.ORGANIZATION else "",
                widget=forms.RadioSelect,
            )

    def scope_fields(self):
        return [self[f"scope_{family}"] for family in Scope.values]

    def clean_expires_at(self):
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

    @property
    def expires_datetime(self) -> datetime | None:
        """The key stops working at the start of the chosen day, in the site's time zone."""
        day = self.cleaned_data.get("expires_at")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.min))


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unticked to receive every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types"]
        labels = {"url": "Endpoint URL"}
        widgets = {
            "url": forms.URLInput(attrs={"placeholder": "https://example.com/hooks/prospector"}),
            "description": forms.TextInput(attrs={"placeholder": "CRM sync"}),
        }

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
