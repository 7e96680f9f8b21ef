"""Demo data has passwords printed in the README: it loads only where Django runs in debug mode."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from orders.management.commands.seed_demo import DEMO_CUSTOMER, DEMO_STAFF
from orders.models import Product


def test_demo_data_is_refused_unless_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused unless DJANGO_DEBUG=true"):
        call_command("seed_demo")
    assert not Product.objects.exists()
    assert not User.objects.filter(email__in=[DEMO_CUSTOMER[0], DEMO_STAFF[0]]).exists()


def test_demo_data_loads_in_debug_mode(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert Product.objects.exists()
    assert User.objects.get(email=DEMO_STAFF[0]).is_superuser
    assert User.objects.get(email=DEMO_CUSTOMER[0]).check_password(DEMO_CUSTOMER[1])
