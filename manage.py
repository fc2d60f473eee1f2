#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # Configuration mistakes are the operator's, not a bug: one sentence,
        # no traceback.
        sys.stderr.write(f"Lotse cannot start: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
