"""Business errors. Each has a stable machine `code`; the API maps the three kinds
(invalid request, not found, conflict) to HTTP statuses in one place."""


class ServiceError(Exception):
    code = "service_error"
    message = "The request could not be carried out."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.message
        self.field = field
        super().__init__(self.message)


class InvalidRequest(ServiceError):
    """The request contradicts a business rule whatever the current state."""

    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"
    message = "Not found."


class RateLimited(ServiceError):
    """Too many attempts; `retry_after` says how many seconds to wait."""

    code = "throttled"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(ServiceError):
    """The request is well formed but the current state does not allow it."""

    code = "conflict"


class EmailTaken(InvalidRequest):
    code = "email_taken"
    message = "A user with this e-mail address already exists."


class EmptyOrder(InvalidRequest):
    code = "empty_order"
    message = "An order needs at least one item."


class DuplicateProduct(InvalidRequest):
    code = "duplicate_product"
    message = "Each product may appear only once in an order; add up the quantities instead."


class ProductUnavailable(InvalidRequest):
    code = "product_unavailable"
    message = "This product does not exist or is not for sale."


class MixedCurrencies(InvalidRequest):
    code = "mixed_currencies"
    message = "All products in one order must be priced in the same currency."


class OutOfStock(Conflict):
    code = "out_of_stock"
    message = "Not enough stock for this product."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "The order cannot move to that status from its current one."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for another request (other operation or parameters)."
