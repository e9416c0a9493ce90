#!/usr/bin/env python
import os
import sys

# Commands that serve requests or run tasks must not start without a SECRET_KEY.
SERVING_COMMANDS = {"runserver", "qcluster", "run"}

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    if len(sys.argv) > 1 and sys.argv[1] in SERVING_COMMANDS:
        import django

        from config.env import require_secret_key

        django.setup()
        require_secret_key()
    execute_from_command_line(sys.argv)
