from tests.ledger.conftest import Api, Household, api, household  # noqa: F401  (shared fixtures)
