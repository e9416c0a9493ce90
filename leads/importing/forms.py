"""The browser's import forms: the upload, and the column mapping with the duplicate policy."""

from __future__ import annotations

from django import forms

from leads.importing.mapping import target_choices
from leads.importing.reading import MAX_UPLOAD_BYTES
from leads.models import DuplicatePolicy, ImportJob


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Up to 50 MB. Exports from HubSpot, Salesforce, Pipedrive, Apollo, Zoho, "
        "Sales Navigator and Google Contacts are recognized; UTF-8, UTF-16 and Windows-1252 "
        "all work.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; imports take files up to "
                "50 MB. Split it into smaller files and import each."
            )
        return upload


class MappingForm(forms.Form):
    """One select per column of the file (field name `col_<n>`), then the policy and tags."""

    on_duplicate = forms.ChoiceField(
        label="When a lead already exists",
        choices=DuplicatePolicy.choices,
        widget=forms.RadioSelect,
        help_text="A lead matches on its email address, or else on first and last name with "
        "the company's domain.",
    )
    tags = forms.CharField(
        label="Tag every imported lead",
        required=False,
        max_length=500,
        help_text="Comma-separated, for example: Webinar March, Inbound",
    )

    def __init__(self, *args, job: ImportJob, custom_fields: dict[str, str], **kwargs):
        kwargs.setdefault(
            "initial",
            {"on_duplicate": job.on_duplicate, "tags": ", ".join(job.tags)},
        )
        super().__init__(*args, **kwargs)
        self.job = job
        choices = target_choices(custom_fields)
        self.columns = []
        for index, header in enumerate(job.headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=job.mapping.get(header, ""),
            )
            self.columns.append(name)

    def column_fields(self):
        return [self[name] for name in self.columns]

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(f"col_{index}") or ""
            for index, header in enumerate(self.job.headers)
        }

    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data.get("tags", "").split(",") if tag.strip()]
