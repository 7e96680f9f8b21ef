"""Every INSERT into the outbox notifies the relays (LISTEN outbox) when its transaction commits.

A statement trigger: one notification per INSERT statement, and PostgreSQL folds the
identical notifications of one transaction into one, delivered only after the commit.
The relay (messaging/relay.py: CHANNEL) wakes on it instead of polling.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
"""
DROP = """
DROP TRIGGER outbox_notify ON outbox_outboxmessage;
DROP FUNCTION outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("outbox", "0004_request_ids")]

    operations = [migrations.RunSQL(CREATE, DROP)]
