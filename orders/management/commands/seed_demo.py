from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from orders.models import Currency, Product
from services.accounts import user_register
from services.products import product_create, seller_create

DEMO_CUSTOMER = ("demo@example.com", "demo-password-123")
DEMO_STAFF = ("staff@example.com", "staff-password-123")
CATALOGUE = {
    ("Kyiv Ceramics", "ceramics@example.com"): [
        ("Blue mug", "MUG-BLUE", "12.50", 40),
        ("Red mug", "MUG-RED", "12.50", 25),
        ("Teapot", "TEAPOT-1", "39.00", 8),
    ],
    ("Lviv Coffee", "coffee@example.com"): [
        ("Espresso beans 1 kg", "COF-ESP-1K", "24.90", 60),
        ("Filter beans 250 g", "COF-FIL-250", "8.40", 120),
    ],
}


class Command(BaseCommand):
    help = "Load a small demo catalogue and two demo users, only into an empty database."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:  # its passwords are in the README: never on a production database
            raise CommandError("Demo data has well-known passwords: refused unless DJANGO_DEBUG=true.")
        if Product.objects.exists():
            self.stdout.write("Catalogue not empty; demo data not loaded.")
            return
        for (seller_name, seller_email), products in CATALOGUE.items():
            seller = seller_create(name=seller_name, email=seller_email)
            for name, sku, price, stock in products:
                product_create(
                    seller=seller,
                    name=name,
                    sku=sku,
                    price=Decimal(price),
                    currency=Currency.USD,
                    stock=stock,
                )
        if not User.objects.filter(email=DEMO_CUSTOMER[0]).exists():
            user_register(email=DEMO_CUSTOMER[0], password=DEMO_CUSTOMER[1])
        if not User.objects.filter(email=DEMO_STAFF[0]).exists():
            User.objects.create_superuser(email=DEMO_STAFF[0], password=DEMO_STAFF[1])
        self.stdout.write(
            f"Demo catalogue loaded. Customer: {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[1]}; "
            f"staff (admin): {DEMO_STAFF[0]} / {DEMO_STAFF[1]}."
        )
