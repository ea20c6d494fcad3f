from tests.budgets.conftest import api, cats  # noqa: F401 - shared fixtures
