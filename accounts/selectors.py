"""Reads of contracts and user IDs. Each takes the contract it reads for."""

from django.shortcuts import get_object_or_404

from accounts.models import Contract, User


def login_id_is_taken(login_id: str, *, exclude_pk: int | None = None) -> bool:
    """Whether any account of the whole service (every contract, administrators and
    support staff included) already has this login ID, compared case-insensitively."""
    taken = User.objects.with_login_id(login_id)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def access_user(contract: Contract, pk: int) -> User:
    """One user ID of this contract; 404 alike for a missing id and another contract's."""
    return get_object_or_404(User.objects.for_contract(contract).users(), pk=pk)
