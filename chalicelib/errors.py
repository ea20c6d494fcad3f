"""Domain errors: services raise these; the API layer renders them in the contract's shape."""

from typing import Any


class DomainError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class ValidationFailed(DomainError):
    status = 400
    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, details=[{"field": field, "message": message}])


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class AmountOutOfRange(Conflict):
    """A write would take a stored sum (a balance, a total) past what NUMERIC(15,2) holds,
    although each amount sent was valid: refused like a balance below zero, not a crash."""

    def __init__(self, message: str = "This would take a balance beyond 13 digits, more than an account can hold"):
        super().__init__(message)


class BalanceBelowZero(Conflict):
    """A write would take a savings or investment account below zero (its CHECK refused it)."""

    def __init__(self, message: str = "This would take the account below zero (savings and investment accounts)"):
        super().__init__(message)


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str = "Too many requests", *, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
