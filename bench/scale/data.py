"""The database side of `make scale`, run as its own process (straight to PostgreSQL,
as migrations and operators' scripts are):

    python -m bench.scale.data seed  --contracts N --out seed.json
    python -m bench.scale.data drain --timeout 180 --out drain.json
    python -m bench.scale.data check --ledger ledger.json --sink sink.json --out check.json

`seed` writes the contracts the load works on, in bulk: each with its administrator
(one shared Argon2 hash), two of them "near full" (990 user IDs with a key each, so
that two sessions at once meet the 999 limit), and the storage service's API client.

`drain` waits until no mail is waiting or being sent and no import job is queued or
running (the workers and the sweep finish what the load started).

`check` compares the database with what the load recorded (the ledger: what each
contract's administrator was told was done, and the requests whose answer was lost
to a kill) and with the mails the SMTP sink received. Each finding that does not
hold is a line of "failures".
"""

import argparse
import json
import os
from collections import Counter

import django

NEAR_FULL = 990  # user IDs and keys of a "near full" contract before the load
PASSWORD = "Vq7xLp3Rz9"  # noqa: S105 (obeys every password rule; run data only)


def seed(contracts: int) -> dict:
    from django.contrib.auth.hashers import make_password

    from accounts.models import Contract, Role, User
    from api.services import api_client_create
    from bench import dataset
    from core import actors
    from devicekeys.models import DeviceKey

    password = make_password(PASSWORD)
    rows = Contract.objects.bulk_create(
        Contract(name=f"scale-{n:03d}") for n in range(1, contracts + 3)
    )
    admins = User.objects.bulk_create(
        dataset._user(f"scale-admin-{n:03d}", contract, password, role=Role.ADMINISTRATOR)
        for n, contract in enumerate(rows, 1)
    )
    near_full = rows[-2:]
    members = User.objects.bulk_create(
        dataset._user(f"nf{contract.pk}-{n:04d}", contract, password)
        for contract in near_full
        for n in range(1, NEAR_FULL + 1)
    )
    dataset._insert(DeviceKey, [dataset._key(user, registered=True) for user in members])
    client, secret = api_client_create(name="scale storage", actor=actors.command("scale"))
    return {
        "password": PASSWORD,
        "contracts": [
            {"admin": admin.login_id, "contract_id": admin.contract_id}
            for admin in admins[:contracts]
        ],
        "near_full": [
            {"admin": admin.login_id, "contract_id": admin.contract_id} for admin in admins[-2:]
        ],
        "api_client": {"id": client.client_id, "secret": secret},
    }


def drain(timeout: float) -> dict:
    import time

    from accounts.models import ImportJob
    from notifications.models import Notification, Status

    started = time.monotonic()
    while True:
        waiting = Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING]).count()
        importing = ImportJob.objects.active().count()
        running = _running_task_rows()  # the sweep closes those of a dead worker
        seconds = round(time.monotonic() - started, 1)
        if not waiting and not importing and not running:
            return {"seconds": seconds, "failures": []}
        if seconds > timeout:
            return {
                "seconds": seconds,
                "failures": [
                    f"after {timeout} s: {waiting} mails, {importing} imports, "
                    f"{running} task rows unfinished"
                ],
            }
        time.sleep(1)


def check(ledger: dict, sink: dict) -> dict:
    from accounts.models import USERS_PER_CONTRACT, Contract, Role, User
    from devicekeys import rules
    from devicekeys.models import DeviceKey
    from notifications.models import Notification, Status

    failures: list[str] = []
    limit_users, limit_keys = USERS_PER_CONTRACT.maximum, rules.KEY_LIMIT
    for contract in Contract.objects.all():
        users = User.objects.filter(contract=contract, role=Role.USER).count()
        keys = DeviceKey.objects.filter(user__contract=contract).count()
        if users > limit_users or keys > limit_keys:
            failures.append(f"contract {contract.pk}: {users} user IDs, {keys} keys")

    totals = Counter()
    for admin, record in ledger["contracts"].items():
        found = _contract_findings(admin, record)
        failures += found["failures"]
        totals.update(found["totals"])

    outbox = list(Notification.objects.values_list("pk", "status", "attempts"))
    mail = Counter(status for _pk, status, _attempts in outbox)
    sent = {pk for pk, status, _attempts in outbox if status == Status.SENT}
    attempts = {pk: count for pk, _status, count in outbox}
    received = {int(pk): count for pk, count in sink["received"].items()}
    missing = sent - received.keys()
    unknown = received.keys() - attempts.keys()
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    # A mail may arrive twice only when a worker died after the SMTP server took it and
    # before the row said so: its lease ran out and a second attempt sent it again.
    if once := [pk for pk, count in received.items() if count > 1 and attempts.get(pk, 0) < 2]:
        failures.append(f"{len(once)} mails received twice from one attempt: {once[:5]}")
    if running := _running_task_rows():
        failures.append(f"{running} task rows still RUNNING after the drain")
    if missing:
        failures.append(f"{len(missing)} sent mails never reached the sink: {sorted(missing)[:5]}")
    if unknown:
        failures.append(f"{len(unknown)} mails in the sink the outbox does not know")
    unsent = {status: n for status, n in mail.items() if status != Status.SENT}
    if unsent:
        failures.append(f"mails not sent at the end: {unsent}")
    if sink["without_id"]:
        failures.append(f"{sink['without_id']} mails without the outbox's header")
    return {
        "failures": failures,
        "totals": dict(totals),
        "mail": {
            "outbox": dict(mail),
            "received": sum(received.values()),
            "duplicates": duplicates,
        },
    }


def _running_task_rows() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.running().count()


def _contract_findings(admin: str, record: dict) -> dict:
    """What the database holds of one contract against what its administrator was told."""
    from accounts.models import ImportJob, ImportStatus, User
    from audit.actions import Action
    from audit.models import AuditEntry
    from devicekeys.models import DeviceKey

    contract_id = record["contract_id"]
    failures = []
    prefix = f"{admin}:"
    present = set(
        User.objects.filter(contract_id=contract_id, role="user")
        .exclude(login_id__startswith="nf")
        .values_list("login_id", flat=True)
    )
    imported = set(record["users_imported"]) | set(record["users_import_unknown"])
    created = set(record["users_created"]) | set(record["users_imported"])
    unknown = set(record["users_unknown"]) | set(record["users_import_unknown"])
    deleted = set(record["users_deleted"])
    deleted_unknown = set(record["users_deleted_unknown"])
    if missing := created - deleted - deleted_unknown - present:
        failures.append(f"{prefix} created but missing: {sorted(missing)[:5]}")
    if back := deleted & present:
        failures.append(f"{prefix} deleted but present: {sorted(back)[:5]}")
    if strangers := present - created - unknown:
        failures.append(f"{prefix} user IDs nobody created: {sorted(strangers)[:5]}")
    gone = deleted | (deleted_unknown - present)
    audit = AuditEntry.objects.filter(contract_id=contract_id)
    by_form = (present | gone) - imported
    made = Counter(audit.filter(action=Action.USER_CREATED).values_list("target", flat=True))
    if set(made) != by_form or max(made.values(), default=1) > 1:
        failures.append(f"{prefix} 利用者ID作成 log: {len(made)} entries, {len(by_form)} IDs")
    # A CSV import is one entry, with the number of user IDs it created.
    imports = list(audit.filter(action=Action.USERS_IMPORTED).values_list("changes", flat=True))
    succeeded = set(
        ImportJob.objects.filter(
            contract_id=contract_id, status=ImportStatus.SUCCEEDED
        ).values_list("pk", flat=True)
    )
    if (
        len(imports) != len(succeeded)
        or not set(record["imports_succeeded"]) <= succeeded
        or sum(int(changes["created"][1]) for changes in imports)
        != len((present | gone) & imported)
    ):
        failures.append(
            f"{prefix} CSVインポート log: {len(imports)} entries, {len(succeeded)} jobs"
        )
    removed = Counter(audit.filter(action=Action.USER_DELETED).values_list("target", flat=True))
    if set(removed) != gone or max(removed.values(), default=1) > 1:
        failures.append(f"{prefix} 利用者ID削除 log differs")

    keys = Counter(
        DeviceKey.objects.filter(
            user__contract_id=contract_id, device_name__startswith="scale-"
        ).values_list("device_name", flat=True)
    )
    issued, issued_unknown = set(record["keys_issued"]), set(record["keys_unknown"])
    if max(keys.values(), default=1) > 1:
        failures.append(f"{prefix} a key issued twice")
    if missing := issued - keys.keys():
        failures.append(f"{prefix} issued keys missing: {sorted(missing)[:5]}")
    if strangers := keys.keys() - issued - issued_unknown:
        failures.append(f"{prefix} keys nobody issued: {sorted(strangers)[:5]}")
    logged = Counter(
        target.rsplit(" (", 1)[0]
        for target in audit.filter(action=Action.DEVICE_KEY_ISSUED).values_list("target", flat=True)
    )
    if set(logged) != keys.keys() or max(logged.values(), default=1) > 1:
        failures.append(f"{prefix} 端末認証キー発行 log: {len(logged)} entries, {len(keys)} keys")
    for action, names in (
        (Action.DEVICE_KEY_STOPPED, record["keys_stopped"]),
        (Action.DEVICE_KEY_REISSUED, record["keys_reissued"]),
    ):
        # Each 停止 or 再発行 the administrator saw done: one entry; one whose answer
        # was lost: one entry or none; never two.
        entries = Counter(
            target.rsplit(" (", 1)[0]
            for target in audit.filter(action=action).values_list("target", flat=True)
        )
        if any(entries[name] != 1 for name in names) or max(entries.values(), default=1) > 1:
            failures.append(f"{prefix} {action.label} log: {dict(entries)}")
        if strangers := entries.keys() - set(names) - set(record["keys_changed_unknown"]):
            failures.append(f"{prefix} {action.label} nobody asked for: {sorted(strangers)}")
    if refused := record.get("changes_refused"):
        failures.append(f"{prefix} 停止 or 再発行 refused: {refused}")
    if record.get("expect_users") is not None:
        count = User.objects.filter(contract_id=contract_id, role="user").count()
        if count != record["expect_users"]:
            failures.append(f"{prefix} {count} user IDs, not {record['expect_users']}")
    if record.get("expect_keys") is not None:
        count = DeviceKey.objects.filter(user__contract_id=contract_id).count()
        if count != record["expect_keys"]:
            failures.append(f"{prefix} {count} keys, not {record['expect_keys']}")
    return {
        "failures": failures,
        "totals": {
            "user IDs created": len(present | gone),
            "user IDs deleted": len(gone),
            "keys issued": len(keys),
            "audit entries checked": len(made) + len(imports) + len(removed) + len(logged),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["seed", "drain", "check"])
    parser.add_argument("--contracts", type=int, default=24)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--ledger")
    parser.add_argument("--sink")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.scale.settings")
    django.setup()
    if args.step == "seed":
        result = seed(args.contracts)
    elif args.step == "drain":
        result = drain(args.timeout)
    else:
        with open(args.ledger) as ledger, open(args.sink) as sink:
            result = check(json.load(ledger), json.load(sink))
    with open(args.out, "w") as out:
        json.dump(result, out, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
