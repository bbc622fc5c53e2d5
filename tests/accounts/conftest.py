"""Fixtures of the accounts tests, on top of the personas of tests/conftest.py."""

import pytest

from accounts.models import Role, User


@pytest.fixture
def fill_contract():
    """Bring a contract to `count` user IDs in one query (no password: none is needed)."""

    def fill(contract, count):
        User.objects.bulk_create(
            User(
                login_id=f"bulk-{contract.pk}-{i:04d}",
                email=f"b{i}@example.jp",
                contract=contract,
                role=Role.USER,
            )
            for i in range(count)
        )
        return contract

    return fill
