from django.core.management import call_command
from django.db import migrations

PLANS = [
    {
        "code": "free",
        "name": "Free",
        "is_default": True,
        "api_rate_limit": "",
        "limits": {
            "enrichment.company": 100,
            "agents.run": 50,
            "agents.cost_cents": 500,
            "campaigns.email": 2000,
            "leads.import_row": 10000,
        },
    },
    {
        "code": "team",
        "name": "Team",
        "is_default": False,
        "api_rate_limit": "1200/m",
        "limits": {
            "enrichment.company": 5000,
            "agents.run": 2000,
            "agents.cost_cents": 20000,
            "campaigns.email": 100000,
            "leads.import_row": 500000,
        },
    },
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("accounts", "Plan")
    for plan in PLANS:
        Plan.objects.update_or_create(code=plan["code"], defaults=plan)


def create_cache_table(apps, schema_editor):
    # The database cache (rate limits, queue status) needs its table on every deployment.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(create_plans, migrations.RunPython.noop),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
