#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only read the models never use the signing key; let them run on a
# fresh checkout without one. Everything else still needs SECRET_KEY when DEBUG is off.
KEYLESS_COMMANDS = {"makemigrations"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in KEYLESS_COMMANDS:
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
