"""Reads of app registrations (アプリのログイン). Each takes the contract it reads for."""

from django.shortcuts import get_object_or_404

from accounts.models import Contract, User
from api.models import AppRegistration


def app_registration_list(*, contract: Contract, user: User):
    """The app sign-ins of one login ID, newest first, ended ones too (with their reason)."""
    return AppRegistration.objects.for_contract(contract).filter(user=user)


def access_app_registration(contract: Contract, user: User, pk: int) -> AppRegistration:
    """One app sign-in of this login ID in this contract; 404 alike for a missing id,
    another login ID's and another contract's."""
    return get_object_or_404(app_registration_list(contract=contract, user=user), pk=pk)
