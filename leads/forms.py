"""Forms of the leads pages. Each takes the `organization` so that every choice it offers
(owners, leads) is the organization's own."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from accounts.models import Membership, Role, User
from leads.filters import LeadFilter
from leads.models import Lead, SavedView, Status


def member_users(organization) -> list[User]:
    """The organization's people, by name: who a lead may be assigned to."""
    return [
        m.user
        for m in Membership.objects.for_org(organization)
        .select_related("user")
        .order_by("user__name", "user__email")
    ]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


def _owner_field(organization, **kwargs) -> OwnerChoiceField:
    return OwnerChoiceField(
        queryset=User.objects.filter(
            pk__in=Membership.objects.for_org(organization)
            .filter(role__in=[Role.OWNER, Role.ADMIN, Role.MEMBER])
            .values("user_id")
        ).order_by("name", "email"),
        **kwargs,
    )


def split_tags(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class LeadCreateForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    email = forms.EmailField(
        max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    company = forms.CharField(
        max_length=200,
        required=False,
        help_text="Matched to a company you already have, or created.",
    )
    title = forms.CharField(max_length=200, required=False, label="Job title")
    phone = forms.CharField(max_length=50, required=False)
    source = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"placeholder": "manual"})
    )
    tags = forms.CharField(
        max_length=500, required=False, help_text="Separated by commas: vip, webinar"
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["owner"] = _owner_field(organization, required=False, empty_label="Nobody")
        self.order_fields(["first_name", "last_name", "email", "company", "title", "phone"])

    def clean(self):
        data = super().clean()
        if not (data.get("first_name") or data.get("last_name") or data.get("email")):
            raise ValidationError("Give the lead a name or an email address.")
        return data

    def lead_data(self) -> dict:
        """The `data` argument of services.create_lead."""
        data = self.cleaned_data
        fields = {
            key: data[key].strip()
            for key in ("first_name", "last_name", "email", "title", "phone", "source")
            if data.get(key)
        }
        fields.setdefault("source", "manual")
        if data.get("owner"):
            fields["owner"] = data["owner"]
        return fields


class MoveForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)


# More ticked boxes than any page shows: the rest of a forged request is ignored.
MAX_TICKED = 1000


class BulkAction:
    STATUS = "status"
    OWNER = "owner"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    ARCHIVE = "archive"
    RESTORE = "restore"

    CHOICES = [
        (STATUS, "Change status"),
        (OWNER, "Assign owner"),
        (ADD_TAG, "Add tag"),
        (REMOVE_TAG, "Remove tag"),
        (ARCHIVE, "Archive"),
        (RESTORE, "Restore"),
    ]


class BulkForm(forms.Form):
    """What to do (`action` and its value) to which leads: the checked `ids`, or with `all`
    every lead matching the filters of the page's query string."""

    action = forms.ChoiceField(choices=[("", "Choose an action…"), *BulkAction.CHOICES])
    status = forms.ChoiceField(choices=[("", "Status…"), *Status.choices], required=False)
    owner = forms.CharField(required=False)
    tag = forms.CharField(max_length=50, required=False)
    all = forms.BooleanField(required=False)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def selected_ids(self) -> list[int]:
        """The ticked ids. Any integer may be posted: the scoped query that runs on them
        decides which are the organization's."""
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        return sorted({int(value) for value in raw if str(value).isdigit() and len(value) < 19})[
            :MAX_TICKED
        ]

    def clean_owner(self) -> User | None:
        value = self.cleaned_data["owner"]
        if value in ("", "none"):
            return None
        if not value.isdigit() or len(value) > 18:
            raise ValidationError("Choose someone from the list.")
        user = (
            User.objects.filter(
                pk=int(value),
                pk__in=Membership.objects.for_org(self.organization)
                .exclude(role=Role.VIEWER)
                .values("user_id"),
            )
            .only("id", "name", "email")
            .first()
        )
        if user is None:
            raise ValidationError("Choose someone from the list.")
        return user

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == BulkAction.STATUS and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        if (
            action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG)
            and not (data.get("tag") or "").strip()
        ):
            self.add_error("tag", "Name the tag.")
        if action == BulkAction.OWNER and self.data.get("owner", "") == "":
            self.add_error("owner", "Choose who gets the leads (or Nobody).")
        data["ids"] = self.selected_ids()
        if not data.get("all") and not data["ids"]:
            raise ValidationError("Select leads first: tick their boxes, or all matching.")
        return data


def clean_view_query(query: str, organization) -> str:
    """The filter part of a query string, checked by the lead filter: what a saved view keeps."""
    params = QueryDict(query.lstrip("?"), mutable=True)
    kept = QueryDict(mutable=True)
    for key in [*LeadFilter.base_filters, "sort"]:
        values = [value for value in params.getlist(key) if value.strip()]
        if values:
            kept.setlist(key, values)
    lead_filter = LeadFilter(kept, queryset=Lead.objects.none(), organization=organization)
    if not lead_filter.form.is_valid():
        problems = "; ".join(
            f"{lead_filter.form.fields[name].label or name}: {' '.join(errors)}"
            for name, errors in lead_filter.form.errors.items()
        )
        raise ValidationError(f"These filters are not valid ({problems}).")
    encoded = kept.urlencode()
    if len(encoded) > SavedView._meta.get_field("query").max_length:
        raise ValidationError("These filters are too long to save.")
    return encoded


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80, label="View name")
    query = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)
    page = forms.ChoiceField(
        choices=[("list", "list"), ("board", "board")], required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, organization, user, instance: SavedView | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.user = user
        self.instance = instance

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Give the view a name.")
        taken = SavedView.objects.for_org(self.organization).filter(user=self.user, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(f"You already have a view named “{name}”.")
        return name

    def clean_query(self) -> str:
        return clean_view_query(self.cleaned_data.get("query") or "", self.organization)


class RenameViewForm(SavedViewForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["query"]
        del self.fields["page"]
