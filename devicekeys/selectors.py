"""Reads of device authentication keys. Each takes the contract it reads for."""

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Contract, User
from devicekeys import rules
from devicekeys.models import AccessSetting, DeviceKey

# ?sort= values of the list, and the order each stands for (ties broken by id).
SORTS = {
    "created": (F("created_at").asc(), F("pk").asc()),
    "-created": (F("created_at").desc(), F("pk").desc()),
    "registered": (F("registered_at").asc(nulls_last=True), F("pk").asc()),
    "-registered": (F("registered_at").desc(nulls_last=True), F("pk").desc()),
}
DEFAULT_SORT = "-created"  # newest first: a key just issued is on the first page


def device_key_list(
    *,
    contract: Contract,
    user: User | None = None,
    login_id: str = "",
    status: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[DeviceKey]:
    """The keys of the list, with their login IDs in the same query; `login_id`
    matches part of the login ID."""
    # The user side is scoped too: the join then reads this contract's users (by
    # their contract index), not the users of every contract (docs/PERFORMANCE.md).
    keys = (
        DeviceKey.objects.for_contract(contract)
        .filter(user__contract=contract)
        .select_related("user")
    )
    if user is not None:
        keys = keys.filter(user=user)
    if login_id:
        keys = keys.filter(user__login_id__icontains=login_id)
    if status:
        keys = keys.filter(status=status)
    return keys.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def device_key_count(*, contract: Contract) -> int:
    return DeviceKey.objects.for_contract(contract).count()


def access_device_key(contract: Contract, pk: int) -> DeviceKey:
    """The views' lookup of one key of this contract (with its login ID); 404 alike for
    a missing id and another contract's. Services look up and lock the row they change
    themselves (devicekeys.services._locked_key)."""
    # The user side is scoped too: the join then reads this contract's users (by
    # their contract index), not the users of every contract (docs/PERFORMANCE.md).
    keys = (
        DeviceKey.objects.for_contract(contract)
        .filter(user__contract=contract)
        .select_related("user")
    )
    return get_object_or_404(keys, pk=pk)


def key_user_list(*, contract: Contract, search: str = "") -> QuerySet[User]:
    """The contract's user IDs a key can be issued to, by login ID; `search`
    matches the login ID or the mail address."""
    users = User.objects.for_contract(contract).users()
    if search:
        users = users.filter(Q(login_id__icontains=search) | Q(email__icontains=search))
    return users.order_by("login_id")


# The issue page offers at most this many login IDs at once; a search narrows them.
PICKER_SIZE = 50


def key_user_choices(
    *, contract: Contract, search: str = "", chosen: User | None = None
) -> tuple[list[User], bool]:
    """What the issue page's picker shows: the first PICKER_SIZE user IDs that `search`
    matches (login ID or mail address), the `chosen` one always among them, and
    whether more match than are shown. One query, whatever the contract's size."""
    users = list(key_user_list(contract=contract, search=search)[: PICKER_SIZE + 1])
    more = len(users) > PICKER_SIZE
    users = users[:PICKER_SIZE]
    if chosen is not None and chosen not in users:
        users.insert(0, chosen)
    return users, more


def key_user_with_login_id(*, contract: Contract, login_id: str) -> User | None:
    """The contract's user ID with exactly this login ID (case-insensitively), if any."""
    if not login_id:
        return None
    return User.objects.for_contract(contract).users().with_login_id(login_id).first()


# The states 利用者ID一覧 counts per login ID: the key list's ステータス, with 利用中 split
# into registered (利用中) and waiting for a device (未登録), as its キー登録日時 shows.
KEY_STATE_FILTERS = {
    "in_use": Q(status=rules.Status.ACTIVE, registered_at__isnull=False),
    "waiting": Q(status=rules.Status.ACTIVE, registered_at__isnull=True),
    "stopped": Q(status=rules.Status.STOPPED),
    "invalid": Q(status=rules.Status.INVALID),
}


@dataclass(frozen=True)
class KeyStates:
    """How many keys of one login ID are in each state of KEY_STATE_FILTERS."""

    in_use: int = 0
    waiting: int = 0
    stopped: int = 0
    invalid: int = 0

    @property
    def total(self) -> int:
        return self.in_use + self.waiting + self.stopped + self.invalid


def key_states_of_users(*, contract: Contract, users: list[User]) -> dict[int, KeyStates]:
    """The keys of these users (a page of 利用者ID一覧) counted by state, by user id:
    one grouped query over the page's users only, by the (contract, user) index. (As
    correlated subqueries in the page's query, PostgreSQL counted the keys of every row
    the OFFSET skips too: 276 ms for page 10 of 999.)"""
    counts = (
        DeviceKey.objects.for_contract(contract)
        .filter(user__in=[user.pk for user in users])
        .order_by()
        .values("user")
        .annotate(**{name: Count("pk", filter=state) for name, state in KEY_STATE_FILTERS.items()})
    )
    return {row.pop("user"): KeyStates(**row) for row in counts}


# --- Device authentication at sign-in ------------------------------------------------


def access_setting_get(*, contract: Contract) -> AccessSetting:
    """アクセス設定 of the contract: its row, or the defaults (unsaved) when it has none."""
    found = AccessSetting.objects.for_contract(contract).first()
    return found if found is not None else AccessSetting(contract=contract)


def waiting_keys(*, contract: Contract, user: User) -> QuerySet[DeviceKey]:
    """The keys of `user` that a device may register now: 利用中 and not yet registered."""
    return DeviceKey.objects.for_contract(contract).filter(
        user=user, status=rules.NEW.status, registered_at__isnull=True
    )


def device_keys_with_credentials(*, user: User, hashes: list[str]) -> list[DeviceKey]:
    """The keys of `user` that this browser holds a credential for (one indexed query)."""
    if not hashes:
        return []
    keys = DeviceKey.objects.for_contract(user.contract).filter(
        user=user, credential_hash__in=hashes
    )
    return list(keys)


def device_key_of_session(*, user: User, pk: int) -> DeviceKey | None:
    """The key a session signed in with, if it still exists: the one query of the
    check on every request (by primary key)."""
    # Sliced rather than .first() (which adds ORDER BY pk), and the owner compared in
    # Python rather than in the query: every request pays for building the query,
    # and each of these took 0.05-0.1 ms of it on PostgreSQL (docs/PERFORMANCE.md).
    for key in DeviceKey.objects.for_contract(user.contract).filter(pk=pk)[:1]:
        return key if key.user_id == user.pk else None
    return None
