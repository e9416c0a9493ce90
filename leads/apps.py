from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads and companies"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.events import register_event_type

        post_migrate.connect(_install_count_triggers, sender=self)

        register_event_type("lead.archived", "A lead was archived")
        register_event_type("lead.restored", "An archived lead was restored")
        register_event_type("leads.imported", "A CSV import of leads finished (with its counts)")
        register_event_type("leads.import_reverted", "A CSV import of leads was reverted")
        register_event_type("lead.merged", "Two leads were merged into one")
        register_event_type("lead.erased", "A lead was erased (only its id is kept)")
        register_event_type("company.merged", "Two companies were merged into one")


def _install_count_triggers(using: str = "default", **kwargs) -> None:
    """Keep the lead count triggers in place after every migrate (and test database flush):
    SQLite drops a table's triggers whenever a migration rebuilds it."""
    from django.db import connections

    from leads.counts import install_triggers

    install_triggers(connections[using])
