from orders.models import Order, OrderPaymentDetails, PaymentStatus


def payment_details_ensure(*, order: Order) -> OrderPaymentDetails:
    """The order's payment details, created on first call with the order's amount."""
    details, _ = OrderPaymentDetails.objects.get_or_create(
        order=order, defaults={"amount": order.total, "currency": order.currency}
    )
    return details


def payment_cancel_pending(*, order: Order) -> None:
    """Stop expecting a payment for `order` (its callback, if any, will be refused)."""
    OrderPaymentDetails.objects.filter(order=order, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CANCELLED
    )
