from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads and companies"

    def ready(self) -> None:
        from accounts.events import register_event_type

        register_event_type("lead.archived", "A lead was archived")
        register_event_type("lead.restored", "An archived lead was restored")
        register_event_type("leads.imported", "A CSV import of leads finished (with its counts)")
        register_event_type("leads.import_reverted", "A CSV import of leads was reverted")
        register_event_type("lead.merged", "Two leads were merged into one")
        register_event_type("lead.erased", "A lead was erased (only its id is kept)")
        register_event_type("company.merged", "Two companies were merged into one")
