"""Create or refresh the demo account: a user who owns the organization "Demo Company".

Idempotent: re-running resets the demo user's password to the current one and changes
nothing else. The password is `DEMO_PASSWORD` when set, else a fixed development default,
which is refused when DEBUG is off.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Membership, Role, User
from accounts.services import create_organization
from config.env import env_str

DEMO_EMAIL = "demo@prospector.local"
DEMO_NAME = "Demo User"
DEMO_ORGANIZATION = "Demo Company"
# Development only: documented in README and .env.example.
DEFAULT_DEMO_PASSWORD = "prospector-demo"


class Command(BaseCommand):
    help = "Create or update the demo organization and its owner, and print the credentials."

    def handle(self, *args, **options) -> None:
        password = env_str("DEMO_PASSWORD")
        if not password:
            if not settings.DEBUG:
                raise CommandError(
                    "DEBUG is off: set DEMO_PASSWORD to load a demo account outside development."
                )
            password = DEFAULT_DEMO_PASSWORD

        with transaction.atomic():
            user, created = User.objects.get_or_create(
                email=DEMO_EMAIL, defaults={"name": DEMO_NAME}
            )
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
            # Verified, so the login works with ACCOUNT_EMAIL_VERIFICATION=mandatory too.
            EmailAddress.objects.update_or_create(
                user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
            )
            membership = (
                Membership.objects.select_related("organization")
                .filter(user=user, organization__name=DEMO_ORGANIZATION)
                .first()
            )
            if membership is None:
                org = create_organization(name=DEMO_ORGANIZATION, owner=user)
            else:
                org = membership.organization
                if membership.role != Role.OWNER:
                    membership.role = Role.OWNER
                    membership.save(update_fields=["role"])

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo account {'created' if created else 'updated'}: "
                f"organization {org.name!r} (/o/{org.slug}/)"
            )
        )
        self.stdout.write(f"  Sign in at {settings.SITE_URL}/accounts/login/")
        self.stdout.write(f"  Email:    {DEMO_EMAIL}")
        self.stdout.write(f"  Password: {password}")
