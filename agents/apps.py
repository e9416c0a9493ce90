from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "AI agents"

    def ready(self) -> None:
        from accounts.events import register_event_type

        register_event_type("agent_run.completed", "An AI agent run finished (or stopped)")
        register_event_type("draft.ready", "An agent's email draft was marked ready to send")
