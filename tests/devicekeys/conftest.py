"""Device-key fixtures on top of the personas of tests/conftest.py.

Keys are issued through the service, so a fixture key obeys every rule; only
`fill_keys` writes rows directly, to bring a contract near its 999-key limit
in one query.
"""

import itertools

import pytest

from devicekeys import rules, services
from devicekeys.models import DeviceKey
from tests.conftest import SETUP

_filler = itertools.count()


@pytest.fixture
def issue_key():
    """Issue a key to `user` (a user ID) through the service, as its administrator would."""

    def issue(user, **fields):
        return services.device_key_issue(contract=user.contract, user=user, actor=SETUP, **fields)

    return issue


@pytest.fixture
def register_key():
    """What the sign-in flow does when a device enters the key."""

    def register(key):
        return services.device_key_register(contract=key.contract, key=key, actor=key.user)

    return register


@pytest.fixture
def key_a(users_a, issue_key):
    """A key of taro-a (contract A), 利用中 and not registered."""
    return issue_key(users_a[0], device_name="Chrome")


@pytest.fixture
def key_b(users_b, issue_key):
    """A key of jiro-b (contract B)."""
    return issue_key(users_b[0], device_name="Chrome-B")


@pytest.fixture
def fill_keys():
    """Give `user`'s contract `count` more unregistered keys in one bulk insert."""

    def fill(user, count):
        keys = []
        for _ in range(count):
            n = next(_filler)
            value = f"F{n:07d}"  # distinct and well-formed
            keys.append(
                DeviceKey(
                    contract=user.contract,
                    user=user,
                    device_name=f"filler-{n}",
                    key=value,
                    key_suffix=rules.key_suffix(value),
                )
            )
        return DeviceKey.objects.bulk_create(keys)

    return fill
