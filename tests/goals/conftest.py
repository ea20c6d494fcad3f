from tests.budgets.conftest import api  # noqa: F401 - the same JSON client fixture
