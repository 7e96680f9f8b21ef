from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from pro_platform.preflight import BrokerTopologyError, check_broker, check_database, declare_broker_topology


class Command(BaseCommand):
    help = (
        "Check that PostgreSQL and RabbitMQ can be reached (one line per problem), "
        "then declare the RabbitMQ queues and the dead-letter queue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--create-database", action="store_true", help="Create the configured database if it is missing."
        )

    def handle(self, *args: Any, create_database: bool = False, **options: Any) -> None:
        if create_database:
            self._create_database_if_missing()
        problems = [p for p in (check_database(), check_broker()) if p]
        if problems:
            raise CommandError("\n".join(problems))
        try:
            for change in declare_broker_topology():
                self.stdout.write(change)
        except BrokerTopologyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("PostgreSQL and RabbitMQ are reachable.")

    def _create_database_if_missing(self) -> None:
        name = connection.settings_dict["NAME"]
        try:
            # Django's own way in to the server without the (maybe missing) database.
            with connection._nodb_cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
                    self.stdout.write(f"Created database {name!r}.")
        except Exception:  # unreachable server: reported below by check_database()
            return
