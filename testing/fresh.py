"""A database and a RabbitMQ vhost of one's own, made anew (the bench and the chaos run)."""

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from pro_platform.preflight import declare_broker_topology
from testing import servers


def fresh_database() -> None:
    """Drop the settings' database, create it and migrate it."""
    name = settings.DATABASES["default"]["NAME"]
    connection.close()
    with connections["default"]._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def fresh_vhost() -> None:
    """Delete the settings' vhost, add it again and declare the app's queues in it."""
    servers.reset_vhost(servers.test_vhost())
    declare_broker_topology()
