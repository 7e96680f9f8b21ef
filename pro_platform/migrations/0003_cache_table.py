"""The shared cache's table (settings.CACHES: PostgreSQL unless REDIS_URL is set), made
wherever migrations run, so no deployment step can forget it."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("pro_platform", "0002_forget_request_records")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
