"""Re-encrypt every stored secret under the newest FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand

from agents import ai


class Command(BaseCommand):
    help = (
        "Re-encrypt stored secrets (AI provider keys) under the first key of "
        "FIELD_ENCRYPTION_KEYS. Run after putting a new key first; then drop the old one."
    )

    def handle(self, *args, **options):
        count = ai.rotate_keys()
        self.stdout.write(f"Re-encrypted {count} secret{'s' if count != 1 else ''}.")
