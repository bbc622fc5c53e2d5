"""CSV import of 999 valid lines: the console's `import_users` beside its floor
(999 bare hashes of the same passwords with the production hasher) and beside
django-import-export importing the same file into the same user model.

The three run one after the other in the same process; after each import the
contract is emptied again, so that each creates the same 999 user IDs.
"""

import io
import os
import random
import resource
import string
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import get_hasher, make_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connections

from accounts.models import Role, User
from bench import dataset

LINES = 999
SERIAL_SAMPLE = 10  # hashes timed one at a time, for the cost of one hash


def run(data: dataset.Dataset) -> dict:
    administrator = data.administrators["empty"]
    contract = administrator.contract
    rows = _lines()
    with tempfile.TemporaryDirectory(prefix="azukeru-bench-csv-") as folder:
        path = Path(folder) / "users.csv"
        path.write_text(
            "".join(f"{login_id},{password},{email}\r\n" for login_id, password, email in rows)
        )
        passwords = [password for _, password, _ in rows]

        serial, _ = _seconds(lambda: [make_password(p) for p in passwords[:SERIAL_SAMPLE]])
        floor, floor_cpu = _seconds(lambda: _hash_on_every_core(passwords))

        ours, ours_cpu = _seconds(
            lambda: call_command(
                "import_users",
                str(path),
                admin=administrator.login_id,
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        )
        _created(contract)

        theirs, theirs_cpu = _seconds(lambda: _import_export(path, contract))
        _created(contract)

    hasher = get_hasher()
    return {
        "lines": LINES,
        "hasher": (
            f"{hasher.algorithm}: time_cost {hasher.time_cost}, "
            f"memory_cost {hasher.memory_cost} KiB, parallelism {hasher.parallelism}"
        ),
        "cores": os.cpu_count(),
        "one_hash_ms": serial / SERIAL_SAMPLE * 1000,
        "floor_s": floor,
        "ours_s": ours,
        "import_export_s": theirs,
        "floor_cpu_s": floor_cpu,
        "ours_cpu_s": ours_cpu,
        "import_export_cpu_s": theirs_cpu,
        "ratio_to_floor": ours / floor,
        "ratio_to_import_export": ours / theirs,
    }


def _lines() -> list[tuple[str, str, str]]:
    """999 lines that every rule of the creation screen accepts (fixed seed)."""
    chooser = random.Random(999)  # noqa: S311 (benchmark data, not a secret)
    alphabet = string.ascii_letters + string.digits
    rows = []
    for n in range(1, LINES + 1):
        login_id = f"csv-{n:04d}"
        while True:
            password = "".join(chooser.choice(alphabet) for _ in range(12))
            try:
                password_validation.validate_password(password, User(login_id=login_id))
            except ValidationError:
                continue
            break
        rows.append((login_id, password, f"{login_id}@example.jp"))
    return rows


def _hash_on_every_core(passwords: list[str]) -> list[str]:
    """The floor: the bare hashes, one worker process per core."""
    connections.close_all()  # the forked workers must not share a database connection
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(make_password, passwords, chunksize=8))


def _import_export(path: Path, contract) -> None:
    """What a Django team would otherwise write: a ModelResource of the user model,
    keyed by login ID, hashing each password with Django's hasher before the save."""
    import tablib
    from import_export import resources

    class UserResource(resources.ModelResource):
        class Meta:
            model = User
            fields = ("login_id", "password", "email")
            import_id_fields = ("login_id",)

        def before_save_instance(self, instance, row, **kwargs):
            instance.contract = contract
            instance.role = Role.USER
            instance.nickname = instance.email
            instance.set_password(instance.password)

    table = tablib.Dataset().load(path.read_text(), format="csv", headers=False)
    table.headers = ["login_id", "password", "email"]
    result = UserResource().import_data(table, raise_errors=True)
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError("django-import-export rejected the file")


def _created(contract) -> None:
    """Check that the import created every line, then empty the contract again."""
    users = User.objects.filter(contract=contract, role=Role.USER)
    created = users.filter(login_id__startswith="csv-").count()
    if created != LINES:
        raise RuntimeError(f"{created} user IDs created instead of {LINES}")
    users.delete()


def _seconds(function) -> tuple[float, float]:
    """Wall-clock and CPU seconds of `function`: the CPU of every thread of this
    process and of its worker processes, which other load on the machine does not
    inflate as it does the wall clock."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finished = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += finished.ru_utime + finished.ru_stime - children.ru_utime - children.ru_stime
    return wall, cpu
