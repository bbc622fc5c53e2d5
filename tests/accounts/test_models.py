"""Invariants the database itself holds."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role, User


def test_login_id_is_unique_case_insensitively_across_contracts(users_a, contract_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(login_id="TARO-A", email="x@example.jp", contract=contract_b)


def test_a_contract_has_only_one_administrator(admin_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            login_id="second-admin",
            email="x@example.jp",
            role=Role.ADMINISTRATOR,
            contract=admin_a.contract,
        )


@pytest.mark.parametrize(
    "role, with_contract", [(Role.USER, False), (Role.ADMINISTRATOR, False), (Role.SUPPORT, True)]
)
def test_role_and_contract_must_agree(contract_a, role, with_contract):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            login_id="odd-one",
            email="x@example.jp",
            role=role,
            contract=contract_a if with_contract else None,
        )


def test_administrator_nickname_defaults_to_the_email(admin_a):
    assert admin_a.nickname == "admin-a@example.jp"
