"""The benchmark's own data, written in bulk (no mails, no audit of the writing).

200 contracts, each with its administrator:

- "full": 999 user IDs (full-0001 ... full-0999), one device key each, 100,000
  audit entries: the largest contract the console allows;
- "hundred" and "ten": 100 and 10 user IDs with a key each, for the growth rows;
- "empty": nothing yet; the CSV import fills it;
- 196 others, partly filled: 50 user IDs each, their share of the keys that bring
  the table to 100,000, and 100 audit entries each.

`build_base` writes the contracts, the user IDs, and 1,000 keys (the full
contract's 999 and one of "ten"); `build_rest` brings the keys to 100,000 and
writes the audit log. The device check is measured after each.

Every account shares one Argon2 hash of PASSWORD (hashed once): sessions are
made directly (`session_cookies`), never through the sign-in page.
"""

import itertools
import time
from dataclasses import dataclass
from functools import cache, partial
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import AUTH_AT, SEEN_AT
from accounts.models import Contract, Role, User
from audit.actions import Action
from audit.models import ActorRole, AuditEntry
from devicekeys import credentials, rules, signin
from devicekeys.models import DeviceKey

PASSWORD = "Vq7xLp3Rz9"  # noqa: S105 (obeys every password rule; benchmark data only)
CONTRACTS = 200
OTHER_USERS = 50
KEYS_IN_TABLE = 100_000
FULL_AUDIT_ENTRIES = 100_000
OTHER_AUDIT_ENTRIES = 100
BATCH = 2000
AUDIT_ACTIONS = [
    Action.USER_CREATED,
    Action.USER_CHANGED,
    Action.DEVICE_KEY_ISSUED,
    Action.DEVICE_KEY_STOPPED,
    Action.SIGN_IN,
]
_sequence = itertools.count(1)


@dataclass
class Dataset:
    full: Contract
    administrators: dict[str, User]  # "full", "hundred", "ten", "empty"
    support: User
    device_user: User  # full-0001: signed in with a registered key
    device_session: dict  # what the session holds about that key (signin.BOUND)
    device_token: str  # the credential in the browser's cookie


def build_base() -> Dataset:
    password = make_password(PASSWORD)
    contracts = Contract.objects.bulk_create(
        Contract(name=f"bench-{n:03d}") for n in range(1, CONTRACTS + 1)
    )
    User.objects.bulk_create(
        (
            _user(f"admin-{n:03d}", contract, password, role=Role.ADMINISTRATOR)
            for n, contract in enumerate(contracts, 1)
        ),
        batch_size=BATCH,
    )
    full, hundred, ten = contracts[0], contracts[1], contracts[2]
    sizes = {full: ("full", 999), hundred: ("hundred", 100), ten: ("ten", 10)}
    rows = [
        _user(f"{prefix}-{n:04d}", contract, password)
        for contract, (prefix, count) in sizes.items()
        for n in range(1, count + 1)
    ]
    rows += [
        _user(f"c{contract.pk:03d}-{n:02d}", contract, password)
        for contract in contracts[4:]
        for n in range(1, OTHER_USERS + 1)
    ]
    User.objects.bulk_create(rows, batch_size=BATCH)
    support = User.objects.create_superuser("bench-support", "support@example.jp")
    support.password = password
    support.save(update_fields=["password"])
    # Support staff always pass a second step (twostep): theirs is an authenticator app.
    TOTPDevice.objects.create(user=support, name="bench", confirmed=True)

    members = _members([full, ten])
    token = credentials.new_token()
    device_user = members[full.pk][0]
    keys = [_key(device_user, token=token)]
    keys += [_key(user, registered=n % 2 == 0) for n, user in enumerate(members[full.pk][1:])]
    keys.append(_key(members[ten.pk][0]))
    _insert(DeviceKey, keys)
    device_key = DeviceKey.objects.get(credential_hash=credentials.token_hash(token))
    administrators = {
        name: User.objects.select_related("contract").get(login_id=f"admin-{n:03d}")
        for n, name in enumerate(["full", "hundred", "ten", "empty"], 1)
    }
    return Dataset(
        full=full,
        administrators=administrators,
        support=support,
        device_user=device_user,
        device_session={"id": device_key.pk, "hash": device_key.credential_hash},
        device_token=token,
    )


def build_rest(data: Dataset) -> None:
    """The rest of the keys (to KEYS_IN_TABLE in the table) and the audit log."""
    contracts = list(Contract.objects.order_by("pk"))
    hundred, ten, others = contracts[1], contracts[2], contracts[4:]
    members = _members([hundred, ten, *others])
    keys = [_key(user) for user in members[ten.pk][1:]]
    keys += [_key(user, registered=n % 2 == 0) for n, user in enumerate(members[hundred.pk])]
    room = KEYS_IN_TABLE - DeviceKey.objects.count() - len(keys)
    for index, contract in enumerate(others):
        share = room // len(others) + (index < room % len(others))
        users = members[contract.pk]
        keys += [_key(users[n % len(users)], registered=n % 2 == 0) for n in range(share)]
    _insert(DeviceKey, keys)

    entries = _audit(data.full, data.administrators["full"].login_id, FULL_AUDIT_ENTRIES)
    for contract in others:
        entries += _audit(contract, f"admin-{contract.pk:03d}", OTHER_AUDIT_ENTRIES)
    _insert(AuditEntry, entries)
    if connection.vendor == "postgresql":
        # What autovacuum does shortly after bulk writes in production.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def counts() -> dict:
    return {
        "contracts": Contract.objects.count(),
        "users": User.objects.count(),
        "device_keys": DeviceKey.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
    }


def session_cookies(user: User, **extra) -> dict:
    """The cookie of a session signed in as `user`, made directly in the session
    store (no sign-in page, no throttling), with the console's sign-in stamps."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = int(time.time())
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = signin.BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[AUTH_AT] = now
    store[SEEN_AT] = now
    store.update(extra)
    store.create()
    return {settings.SESSION_COOKIE_NAME: store.session_key}


def support_cookies(data: Dataset) -> dict:
    """Support staff's session, past its second step (django-otp's verified device)."""
    device = TOTPDevice.objects.get(user=data.support)
    return session_cookies(data.support, **{DEVICE_ID_SESSION_KEY: device.persistent_id})


def device_cookies(data: Dataset) -> dict:
    """The device user's browser: a session bound to its key, and the credential."""
    cookies = session_cookies(data.device_user, **{signin.BOUND: data.device_session})
    return {**cookies, credentials.COOKIE_NAME: data.device_token}


def _user(login_id: str, contract: Contract, password: str, role: str = Role.USER) -> User:
    email = f"{login_id}@example.jp"
    return User(
        login_id=login_id,
        email=email,
        nickname=email,
        role=role,
        contract=contract,
        password=password,
        display_name=login_id.upper()[:16],
    )


def _members(contracts: list[Contract]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = {contract.pk: [] for contract in contracts}
    users = User.objects.filter(contract__in=contracts, role=Role.USER).order_by("login_id")
    for user in users:
        found[user.contract_id].append(user)
    return found


def _key(user: User, *, registered: bool = False, token: str = "") -> dict:
    """A key of `user` (a row): unregistered (the key in clear) or registered (only
    hashes; with `token`, 利用中 with the credential that browser holds)."""
    n = next(_sequence)
    value = _key_value(n)
    now = timezone.now()
    key = {
        "contract_id": user.contract_id,
        "user_id": user.pk,
        "device_name": f"端末-{n}",
        "key": "",
        "key_hash": "",
        "key_suffix": rules.key_suffix(value),
        "status": rules.Status.STOPPED if n % 10 == 0 else rules.Status.ACTIVE,
        "created_at": now,
        "registered_at": None,
        "last_used_at": None,
        "credential_hash": "",
        "last_ip": None,
        "last_user_agent": "",
        "registered_by": "",
    }
    if registered or token:
        key["registered_by"] = rules.Client.BROWSER
        key["key_hash"] = f"bench${n}"
        key["registered_at"] = key["last_used_at"] = now
        key["credential_hash"] = credentials.token_hash(token or f"bench-credential-{n}")
        if token:
            key["status"] = rules.Status.ACTIVE
    else:
        key["key"] = value
        if n % 25 == 0:
            key["status"] = rules.Status.INVALID
    return key


def _key_value(n: int) -> str:
    """A well-formed key, distinct for every n."""
    alphabet = rules.KEY_ALPHABET
    digits = []
    for _ in range(rules.KEY_LENGTH):
        n, digit = divmod(n, len(alphabet))
        digits.append(alphabet[digit])
    return "".join(reversed(digits))


def _audit(contract: Contract, actor: str, count: int) -> list[dict]:
    now = timezone.now()
    return [
        {
            "created_at": now,
            "contract_id": contract.pk,
            "action": AUDIT_ACTIONS[n % len(AUDIT_ACTIONS)],
            "actor_login_id": actor,
            "actor_role": ActorRole.ADMINISTRATOR,
            "actor_ip": "192.0.2.10",
            "actor_user_agent": "Mozilla/5.0",
            "target": f"user-{n % 999:04d}",
            "changes": {"email": ["", f"user-{n}@example.jp"]},
        }
        for n in range(count)
    ]


def _insert(model, rows: list[dict]) -> None:
    """Write `rows` (column: value) in one transaction: COPY on PostgreSQL, an
    executemany a batch elsewhere. The ORM's bulk_create spends most of its time
    preparing each value of each row, which data of known types does not need."""
    ops = connection.ops
    fields = {field.column: field for field in model._meta.concrete_fields}
    columns = list(rows[0])
    adapters = {}
    for column in columns:
        if isinstance(fields[column], models.DateTimeField):
            adapters[column] = cache(ops.adapt_datetimefield_value)  # rows share times
        elif isinstance(fields[column], models.JSONField):
            adapters[column] = partial(ops.adapt_json_value, encoder=fields[column].encoder)

    def values(row):
        return tuple(
            adapters[column](value) if column in adapters and value is not None else value
            for column, value in row.items()
        )

    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(column) for column in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
            return
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 (the model's own names)
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, [values(row) for row in rows[start : start + BATCH]])
