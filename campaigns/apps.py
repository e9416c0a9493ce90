from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns and sequences"

    def ready(self) -> None:
        from leads.extensions import PageAction, register_lead_bulk_action

        register_lead_bulk_action(PageAction("Add to campaign", "campaigns:enroll_from_leads"))
