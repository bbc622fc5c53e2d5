"""Reads of contracts and user IDs. Each takes the contract it reads for."""

from collections.abc import Iterable

from django.db.models import Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from accounts.models import Contract, User
from devicekeys.selectors import KeyStates, key_states_of_users


def login_id_is_taken(login_id: str, *, exclude_pk: int | None = None) -> bool:
    """Whether any account of the whole service (every contract, administrators and
    support staff included) already has this login ID, compared case-insensitively."""
    taken = User.objects.with_login_id(login_id)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def login_ids_taken(login_ids: Iterable[str]) -> set[str]:
    """Which of these login IDs any account of the whole service already has, in
    lower case: one query, through the Lower(login_id) unique index."""
    wanted = {login_id.lower() for login_id in login_ids}
    if not wanted:
        return set()
    taken = User.objects.alias(login_id_lower=Lower("login_id")).filter(login_id_lower__in=wanted)
    return {login_id.lower() for login_id in taken.values_list("login_id", flat=True)}


def access_user(contract: Contract, pk: int) -> User:
    """One user ID of this contract; 404 alike for a missing id and another contract's."""
    return get_object_or_404(User.objects.for_contract(contract).users(), pk=pk)


def user_count(contract: Contract) -> int:
    """The number of user IDs counted against the contract's limit (not its administrator)."""
    return User.objects.for_contract(contract).users().count()


USER_SORTS = {
    "login_id": ("login_id",),
    "-login_id": ("-login_id",),
    "created_at": ("created_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
}


# A search of 利用者ID一覧 or of the key issue's picker is at most as long as the
# longest field it is compared with, the mail address.
USER_SEARCH_MAX_LENGTH = User._meta.get_field("email").max_length


def user_list(contract: Contract, *, search: str = "", sort: str = "login_id"):
    """利用者ID一覧: the contract's user IDs, searched by login ID, mail address or
    display name, in one of USER_SORTS. The keys of a page's rows are counted by
    `user_list_key_states`."""
    users = User.objects.for_contract(contract).users()
    search = search.strip()
    if search:
        users = users.filter(
            Q(login_id__icontains=search)
            | Q(email__icontains=search)
            | Q(display_name__icontains=search)
        )
    return users.order_by(*USER_SORTS.get(sort, USER_SORTS["login_id"]))


def user_list_key_states(contract: Contract, users) -> list[User]:
    """The rows of one page of 利用者ID一覧, each with `key_states`: how many device keys
    it has in each state (devicekeys.selectors.KeyStates). One query for the page,
    whatever its rows: the keys of the 50 rows only, not of the rows before them
    (docs/PERFORMANCE.md)."""
    users = list(users)
    counts = key_states_of_users(contract=contract, users=users)
    for user in users:
        user.key_states = counts.get(user.pk, KeyStates())
    return users
