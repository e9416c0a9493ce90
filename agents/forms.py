from __future__ import annotations

from django import forms

from agents.models import AISettings, Provider

PROVIDER_HELP = (
    "Tried in this order: a provider without a key is passed over, and one that fails "
    "(after retries) hands over to the next. “offline” answers with rules, without AI."
)


class AISettingsForm(forms.ModelForm):
    providers = forms.CharField(
        label="Provider order",
        required=False,
        help_text=PROVIDER_HELP + " Empty: the install's default.",
        widget=forms.TextInput(attrs={"placeholder": "openai, anthropic, offline"}),
    )

    class Meta:
        model = AISettings
        fields = [
            "providers",
            "openai_model",
            "anthropic_model",
            "monthly_budget_cents",
            "offer",
            "ideal_customer",
            "voice",
        ]
        labels = {
            "openai_model": "OpenAI model",
            "anthropic_model": "Anthropic model",
            "monthly_budget_cents": "Monthly budget (US cents)",
            "offer": "What we sell",
            "ideal_customer": "Our ideal customer",
            "voice": "Our voice",
        }
        help_texts = {
            "monthly_budget_cents": "New agent runs stop when this month's AI spend reaches it. "
            "Empty: the install's default.",
            "offer": "A few sentences: the product, the problem it solves, for whom.",
            "ideal_customer": "Industries, company sizes, regions, the titles you sell to.",
            "voice": "How emails should sound, e.g. “plain, warm, no buzzwords, first names”.",
        }
        widgets = {
            "offer": forms.Textarea(attrs={"rows": 3}),
            "ideal_customer": forms.Textarea(attrs={"rows": 3}),
            "voice": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_providers(self) -> str:
        raw = self.cleaned_data["providers"]
        names = [name.strip().lower() for name in raw.replace(" ", ",").split(",") if name.strip()]
        unknown = [name for name in names if name not in Provider.values]
        if unknown:
            raise forms.ValidationError(
                f"Unknown provider: {', '.join(unknown)}. Use {', '.join(Provider.values)}."
            )
        return ",".join(dict.fromkeys(names))


class ProviderKeyForm(forms.Form):
    provider = forms.ChoiceField(
        choices=[(Provider.OPENAI, "OpenAI"), (Provider.ANTHROPIC, "Anthropic")]
    )
    key = forms.CharField(
        label="API key",
        max_length=500,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; only its last four characters are shown again.",
    )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip()
        if len(key) < 10 or any(ch.isspace() for ch in key):
            raise forms.ValidationError("That does not look like an API key.")
        return key


class DraftForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}))
