from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    name = "enrichment"
    verbose_name = "Company enrichment"

    def ready(self) -> None:
        from accounts.events import register_event_type
        from leads.extensions import (
            PageAction,
            register_company_action,
            register_lead_bulk_action,
        )

        register_lead_bulk_action(PageAction("Enrich companies", "enrichment:from_leads"))
        register_company_action(PageAction("Enrich", "enrichment:from_company"))

        register_event_type("enrichment.job_created", "An enrichment job was started")
        register_event_type("enrichment.job_completed", "An enrichment job finished")
        register_event_type("enrichment.job_cancelled", "An enrichment job was cancelled")
        register_event_type("company.enriched", "An enrichment result was applied to a company")
