from decimal import Decimal

import factory

from accounts.models import User
from orders.models import Currency, Product, Seller


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.django.Password("correct-horse-battery")


class SellerFactory(factory.django.DjangoModelFactory[Seller]):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Seller {n}")
    email = factory.Sequence(lambda n: f"seller{n}@example.com")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    seller = factory.SubFactory(SellerFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("10.00")
    currency = Currency.USD
    stock = 10
