"""Server times of the console's pages (bench.timing), beside Django admin's
changelists of the same rows, the device check on and off, and the growth with rows."""

from django.conf import settings
from django.contrib import admin
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEntry
from bench import dataset
from bench.timing import Case, measure, paired_difference_ms
from devicekeys.models import DeviceKey

DEVICE_CHECK = "devicekeys.middleware.DeviceCheckMiddleware"
ROUNDS = 50  # requests per page (the target asks for at least 50)
# Django admin's audit changelist takes most of a second a page: fewer requests.
ADMIN_LOG_ROUNDS = 5
DEVICE_ROUNDS = 200  # the device check: a difference of two small numbers needs more
PER_PAGE = 50  # the console's page; Django admin is set to the same for the comparison
SEARCH = "full-05"  # matches 100 of the full contract's 999 login IDs
USERS_FIRST_PAGE = "利用者ID一覧 first page"
KEYS_FIRST_PAGE = "端末認証キー一覧 first page"


def lists(data: dataset.Dataset) -> list[dict]:
    """Each page of the full contract beside Django admin's changelist of the same
    rows (filtered to the contract, PER_PAGE a page), timed in alternation."""
    for model in (User, DeviceKey, AuditEntry):
        admin.site._registry[model].list_per_page = PER_PAGE
    app = WSGIHandler()
    ours = dataset.session_cookies(data.administrators["full"])
    theirs = dataset.support_cookies(data)
    contract = {"contract__id__exact": data.full.pk}
    users = reverse("accounts:user-list")
    keys = reverse("devicekeys:key-list")
    admin_users = reverse("admin:accounts_user_changelist")
    admin_keys = reverse("admin:devicekeys_devicekey_changelist")
    user_rows = {**contract, "role__exact": "user"}
    pairs = {
        USERS_FIRST_PAGE: ({}, {}),
        "利用者ID一覧 middle page (10/20)": ({"page": 10}, {"p": 10}),
        f"利用者ID一覧 search '{SEARCH}'": ({"q": SEARCH}, {"q": SEARCH}),
        KEYS_FIRST_PAGE: ({}, {}),
        "端末認証キー一覧 middle page (10/20)": ({"page": 10}, {"p": 10}),
        f"端末認証キー一覧 search '{SEARCH}'": ({"login_id": SEARCH}, {"q": SEARCH}),
    }
    cases = {}
    for name, (our_query, admin_query) in pairs.items():
        if name.startswith("利用者ID"):
            cases[name] = (Case(users, our_query, ours), b"full-0")
            cases[f"admin: {name}"] = (
                Case(admin_users, {**user_rows, **admin_query}, theirs),
                b"full-0",
            )
        else:
            cases[name] = (Case(keys, our_query, ours), b"full-0")
            cases[f"admin: {name}"] = (
                Case(admin_keys, {**contract, **admin_query}, theirs),
                b"full-0",
            )
    logs = "ログ管理 first page (100,000 entries)"
    cases[logs] = (Case(reverse("audit:entry-list"), {}, ours), b"admin-001")
    timings = measure(
        {name: (app, case, expect) for name, (case, expect) in cases.items()}, rounds=ROUNDS
    )
    admin_logs = Case(reverse("admin:audit_auditentry_changelist"), contract, theirs)
    timings |= measure(
        {f"admin: {logs}": (app, admin_logs, b"admin-001")}, rounds=ADMIN_LOG_ROUNDS, warmup=1
    )
    rows = []
    for name in [*pairs, logs]:
        mine, theirs_timing = timings[name], timings[f"admin: {name}"]
        rows.append(
            {
                "page": name,
                "ours": mine.summary(),
                "admin": theirs_timing.summary(),
                "ratio_p50": mine.p50 / theirs_timing.p50,
                "ratio_p95": mine.p95 / theirs_timing.p95,
            }
        )
    return rows


def growth(data: dataset.Dataset, lists: list[dict]) -> list[dict]:
    """The first page of both lists for contracts of 10 and 100 rows, and of 999
    (the full contract's first pages, measured by `lists`)."""
    app = WSGIHandler()
    sizes = {"ten": 10, "hundred": 100}
    cases = {}
    for name in sizes:
        cookies = dataset.session_cookies(data.administrators[name])
        cases[f"users {name}"] = (app, Case(reverse("accounts:user-list"), {}, cookies), None)
        cases[f"keys {name}"] = (app, Case(reverse("devicekeys:key-list"), {}, cookies), None)
    timings = measure(cases, rounds=ROUNDS)
    rows = [
        {
            "rows": rows,
            "users": timings[f"users {name}"].summary(),
            "keys": timings[f"keys {name}"].summary(),
        }
        for name, rows in sizes.items()
    ]
    full = {row["page"]: row["ours"] for row in lists}
    rows.append({"rows": 999, "users": full[USERS_FIRST_PAGE], "keys": full[KEYS_FIRST_PAGE]})
    return rows


def device_check(data: dataset.Dataset) -> dict:
    """A page of the device user through the whole stack, with the device check and
    with the check taken out of MIDDLEWARE, timed in alternation. The page is 登録内容の
    変更, which renders the same either way (the home page shows the device)."""
    with_check = WSGIHandler()
    without = [name for name in settings.MIDDLEWARE if name != DEVICE_CHECK]
    if len(without) == len(settings.MIDDLEWARE):
        raise RuntimeError(f"{DEVICE_CHECK} is not in MIDDLEWARE")
    with override_settings(MIDDLEWARE=without):
        without_check = WSGIHandler()  # the handler keeps the chain it was built with
    case = Case(reverse("accounts:profile-edit"), {}, dataset.device_cookies(data))
    timings = measure(
        {
            "on": (with_check, case, data.device_user.login_id.encode()),
            "off": (without_check, case, data.device_user.login_id.encode()),
        },
        rounds=DEVICE_ROUNDS,
    )
    on, off = timings["on"], timings["off"]
    return {
        "keys_in_table": DeviceKey.objects.count(),
        "on": on.summary(),
        "off": off.summary(),
        "added_ms": paired_difference_ms(on, off),
        "added_ms_p50": (on.p50 - off.p50) * 1000,
        "added_queries": on.query_count - off.query_count,
    }
