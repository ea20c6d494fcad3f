"""Money limits that hold below the API too (a service adding to a stored amount)."""

from decimal import Decimal

MAX_MONEY = Decimal("9999999999999.99")  # NUMERIC(15,2)
