#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pro_platform.settings.base")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    from pro_platform.preflight import database_unreachable_message

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        # One line naming the database and how to start it, not a traceback.
        sys.exit(f"error: {database_unreachable_message(exc)}")


if __name__ == "__main__":
    main()
