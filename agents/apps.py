from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "AI agents"

    def ready(self) -> None:
        from accounts.events import register_event_type
        from leads.extensions import (
            LeadPanel,
            PageAction,
            register_lead_bulk_action,
            register_lead_panel,
        )

        register_lead_panel(LeadPanel("AI assistant", "agents:lead_panel"))
        register_lead_bulk_action(PageAction("Research with AI", "agents:bulk_research"))
        register_lead_bulk_action(PageAction("Draft first emails with AI", "agents:bulk_outreach"))
        register_lead_bulk_action(PageAction("Qualify with AI", "agents:bulk_qualify"))

        from agents.enrich import connector
        from enrichment import ai as enrichment_ai

        enrichment_ai.connect(connector)

        register_event_type("agent_run.completed", "An AI agent run finished (or stopped)")
        register_event_type("draft.ready", "An agent's email draft was marked ready to send")
