import pytest

from tests.factories import make_account
from tests.imports.conftest import deliver, drop, run_import  # noqa: F401 - shared import fixtures


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def checking(conn, owner):
    return make_account(conn, owner["id"], opening_balance="100.00")
