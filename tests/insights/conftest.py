from tests.budgets.conftest import api, cats, owner  # noqa: F401 - shared fixtures
