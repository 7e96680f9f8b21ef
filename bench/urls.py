"""The product's URLs plus the references the benchmarks measure it against."""

from django.urls import path

from pro_platform.urls import urlpatterns as product_urlpatterns

from .views import ConstantApi, OrderCreateSendingInlineApi, django_constant

urlpatterns = [
    path("bench/drf-constant/", ConstantApi.as_view()),
    path("bench/django-constant/", django_constant),
    path("bench/orders-sending-inline/", OrderCreateSendingInlineApi.as_view()),
    *product_urlpatterns,
]
