import pytest


@pytest.fixture(autouse=True)
def _services(services):
    return services
