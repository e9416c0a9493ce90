from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms

from accounts import crypto
from campaigns import rendering
from campaigns.models import Campaign, Sender, Step

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class SenderForm(forms.ModelForm):
    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted. Leave empty to keep the current one.",
    )

    class Meta:
        model = Sender
        fields = [
            "name",
            "email",
            "reply_to",
            "signature",
            "daily_cap",
            "rate_per_minute",
            "ramp_up",
            "smtp_host",
            "smtp_port",
            "smtp_username",
            "smtp_security",
        ]
        labels = {
            "email": "From address",
            "reply_to": "Reply-to address",
            "rate_per_minute": "Emails per minute",
            "ramp_up": "New address: ramp the daily cap up over the first weeks",
            "smtp_host": "SMTP host",
            "smtp_port": "SMTP port",
            "smtp_username": "SMTP user",
            "smtp_security": "Security",
        }
        help_texts = {
            "smtp_host": "Empty: send through the install's own mail server.",
            "signature": "Added to the end of every email from this sender.",
        }
        widgets = {"signature": forms.Textarea(attrs={"rows": 3})}

    def save(self, commit: bool = True) -> Sender:
        sender = super().save(commit=False)
        password = self.cleaned_data.get("smtp_password")
        if password:
            sender.smtp_password_encrypted = crypto.encrypt(password)
        if not sender.smtp_host:
            sender.smtp_password_encrypted = ""
        if commit:
            sender.save()
        return sender


class CampaignForm(forms.ModelForm):
    window_days = forms.TypedMultipleChoiceField(
        label="Send on",
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4],
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "sender",
            "window_days",
            "window_start",
            "window_end",
            "time_zone",
            "lead_timezone",
            "start_at",
            "track_opens",
            "track_clicks",
            "stop_on_reply",
            "stop_company_on_reply",
        ]
        labels = {
            "window_start": "Window opens",
            "window_end": "Window closes",
            "time_zone": "Time zone",
            "lead_timezone": "Use each lead's own time zone when known",
            "start_at": "Start at",
            "track_opens": "Track opens (a pixel)",
            "track_clicks": "Track clicks (links go through Prospector)",
            "stop_on_reply": "Stop a lead's sequence when they reply",
            "stop_company_on_reply": "A reply from anyone at a company stops its other leads here",
        }
        widgets = {
            "window_start": forms.TimeInput(attrs={"type": "time"}),
            "window_end": forms.TimeInput(attrs={"type": "time"}),
            "start_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }
        help_texts = {"start_at": "Empty: as soon as it is launched."}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"].queryset = Sender.objects.for_org(organization)
        self.fields["sender"].empty_label = None

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError("Use a time zone name such as Europe/Berlin.") from None
        return name

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("window_start"), cleaned.get("window_end")
        if start and end and start >= end:
            self.add_error("window_end", "The window must end after it starts.")
        return cleaned


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ["delay_days", "delay_hours", "subject", "body"]
        labels = {"delay_days": "Wait days", "delay_hours": "and hours"}
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, custom_keys=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_keys = custom_keys

    def clean_subject(self) -> str:
        return self._checked("subject")

    def clean_body(self) -> str:
        return self._checked("body")

    def _checked(self, name: str) -> str:
        value = self.cleaned_data[name]
        problems = rendering.check(value, self.custom_keys)
        if problems:
            raise forms.ValidationError(problems)
        return value


StepFormSet = forms.inlineformset_factory(
    Campaign, Step, form=StepForm, extra=1, min_num=1, validate_min=True, can_delete=True
)
