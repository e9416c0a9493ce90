from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns and sequences"

    def ready(self) -> None:
        from accounts.events import register_event_type
        from leads.extensions import PageAction, register_lead_bulk_action

        register_lead_bulk_action(PageAction("Add to campaign", "campaigns:enroll_from_leads"))
        register_event_type("lead.unsubscribed", "A recipient unsubscribed from campaign email")
        register_event_type("campaign.launched", "A campaign was launched or scheduled")
        register_event_type("email.sent", "An email was sent to a lead")
