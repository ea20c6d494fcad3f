from tests.auth.conftest import _fresh_limiter, outbox, register  # noqa: F401  (shared fixtures)
