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


# Custom fields -----------------------------------------------------------------------------


def _choice_list(text: str) -> list[str]:
    """Choices typed one per line (or separated by commas), trimmed, without repeats."""
    parts = [" ".join(p.split()) for p in text.replace("\n", ",").split(",")]
    return list(dict.fromkeys(p[:100] for p in parts if p))


class CustomFieldForm(forms.Form):
    """A new custom field: its label, key (from the label when left empty), type, choices."""

    label = forms.CharField(max_length=100)
    key = forms.SlugField(
        max_length=50,
        required=False,
        help_text="How the API, imports and capture forms name the field (custom. and the "
        "key). Made from the label when left empty; it cannot change later.",
    )
    field_type = forms.ChoiceField(label="Type", choices=())
    choices = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For the Choice type: one option per line.",
    )

    def __init__(self, *args, organization, **kwargs):
        from leads.models import FieldType

        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["field_type"].choices = FieldType.choices
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"id_cf_{name}")

    def clean_label(self) -> str:
        label = " ".join(self.cleaned_data["label"].split())
        if not label:
            raise ValidationError("Give the field a label.")
        return label

    def clean(self):
        from django.utils.text import slugify

        from leads.models import CustomFieldDefinition, FieldType

        data = super().clean()
        if "label" in data and not self.errors.get("key"):
            key = (data.get("key") or slugify(data["label"]).replace("-", "_"))[:50]
            if not key:
                self.add_error("key", "Type a key of letters, digits, - or _.")
            elif CustomFieldDefinition.objects.for_org(self.organization).filter(key=key).exists():
                self.add_error("key", f"Another custom field already has the key “{key}”.")
            else:
                data["key"] = key
        choices = _choice_list(data.get("choices") or "")
        if data.get("field_type") == FieldType.CHOICE:
            if not choices:
                self.add_error("choices", "A choice field needs at least one option.")
            elif len(choices) > 100:
                self.add_error("choices", "At most 100 options.")
            data["choices"] = choices[:100]
        else:
            data["choices"] = []
        return data


class RenameCustomFieldForm(forms.Form):
    label = forms.CharField(max_length=100)

    def clean_label(self) -> str:
        label = " ".join(self.cleaned_data["label"].split())
        if not label:
            raise ValidationError("Give the field a label.")
        return label


class CustomValueForm(forms.Form):
    """One custom field's value on a lead, checked by the field's type. `value()` is what is
    stored in `Lead.custom_fields[key]` (None when emptied)."""

    def __init__(self, *args, definition, **kwargs):
        from leads.models import FieldType

        super().__init__(*args, **kwargs)
        self.definition = definition
        label = definition.label
        kind = definition.field_type
        field: forms.Field
        if kind == FieldType.NUMBER:
            field = forms.DecimalField(label=label, required=False, max_digits=20)
        elif kind == FieldType.DATE:
            field = forms.DateField(
                label=label,
                required=False,
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
            )
        elif kind == FieldType.BOOLEAN:
            field = forms.TypedChoiceField(
                label=label,
                required=False,
                choices=[("", "—"), ("true", "Yes"), ("false", "No")],
                coerce=lambda v: v == "true",
                empty_value=None,
            )
        elif kind == FieldType.CHOICE:
            options = [str(c) for c in definition.choices or []]
            field = forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "—"), *((c, c) for c in options)],
            )
        elif kind == FieldType.URL:
            field = forms.URLField(
                label=label, required=False, max_length=500, assume_scheme="https"
            )
        else:
            field = forms.CharField(label=label, required=False, max_length=1000)
        field.widget.attrs.update({"id": f"id_custom_{definition.pk}", "autofocus": True})
        self.fields["value"] = field

    @staticmethod
    def initial_for(definition, stored):
        """The stored value as the form shows it."""
        from leads.models import FieldType

        if stored is None:
            return None
        if definition.field_type == FieldType.BOOLEAN:
            return "true" if stored is True else "false" if stored is False else None
        return stored

    def value(self):
        """The cleaned value as JSON: numbers as int or float, dates as ISO text."""
        from decimal import Decimal

        value = self.cleaned_data["value"]
        if value in (None, ""):
            return None
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, Decimal):
            # An int when whole, else a float: JSON has no decimals.
            return int(value) if value == value.to_integral_value() else float(value)
        return value
