"""The scoping API never returns another contract's rows."""

import pytest
from django.http import Http404

from accounts.models import User
from accounts.selectors import access_user


def test_for_contract_returns_only_that_contracts_accounts(contract_a, users_a, users_b):
    login_ids = set(User.objects.for_contract(contract_a).values_list("login_id", flat=True))
    assert login_ids == {"admin-a", "taro-a", "hana-a"}


def test_users_excludes_the_administrator(contract_a, users_a):
    users = User.objects.for_contract(contract_a).users()
    assert {u.login_id for u in users} == {"taro-a", "hana-a"}


@pytest.mark.parametrize("contract", [None, "unsaved"])
def test_an_unscoped_query_fails_closed(db, contract):
    from accounts.models import Contract

    with pytest.raises(ValueError):
        User.objects.for_contract(Contract() if contract == "unsaved" else None)


def test_access_user_finds_own_user(contract_a, users_a):
    assert access_user(contract_a, users_a[0].pk) == users_a[0]


def test_access_user_hides_another_contracts_user_as_404(contract_a, users_b):
    with pytest.raises(Http404):
        access_user(contract_a, users_b[0].pk)


def test_access_user_hides_the_administrator(contract_a, admin_a):
    with pytest.raises(Http404):
        access_user(contract_a, admin_a.pk)


def test_access_user_missing_id_is_the_same_404(contract_a):
    with pytest.raises(Http404):
        access_user(contract_a, 999_999)
