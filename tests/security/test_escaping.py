"""Script in a text field never runs in a page.

Every free-text field that an administrator, a user ID, a browser or a CSV file
can set holds markup (each field its own, so that a failure names the field), the
objects made through the services. Then every GET page of the console (from the
URLconf, as tests/security/test_matrix.py enumerates it, ids filled by its
FILLERS), the user ID's own pages and every page of Django admin for support
staff are fetched: no markup arrives unescaped, and the pages that show a field
show it escaped. A `|safe` or `mark_safe` on any of these fields fails here.
CSV downloads carry the same text as plain text, formulas neutralised.
"""

import csv
import io
import re
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts import services
from accounts.models import Contract, ImportJob, User
from audit.actions import Action
from audit.models import AuditEntry
from core.csvsafe import FORMULA_STARTS
from csvimport.services import user_import
from devicekeys import services as key_services
from devicekeys.models import DeviceKey
from tests.conftest import PASSWORD, SETUP, login_verified
from tests.devicekeys.browser import HOME, KEY_STEP, LOGIN, browser, enter_key, sign_in
from tests.security.test_matrix import FILLERS, PATTERNS

# Each field's own payload, as long as the field allows (display_name, title and
# department hold 16 characters, a device name 32).
NICKNAME = '<script>alert("nickname")</script>"\'><img src=x onerror=alert(1)>'
# A quoted local part may hold < > ( ) ' (RFC 5322; Django's EmailValidator agrees).
EMAIL = "\"<script>alert('email')</script>\"@example.jp"
DISPLAY_NAME = "<svg onload=d()>"
TITLE = "<svg onload=t()>"
DEPARTMENT = "<svg onload=b()>"
DEVICE_NAME = '<script>alert("device")</script>'
USER_AGENT = 'Mozilla/5.0 <script>alert("ua")</script>"\'><img src=x onerror=alert(1)> Chrome/130'
FILE_NAME = '<script>alert("file")</script>"\'><img src=x onerror=alert(1)>.csv'
CSV_LOGIN_ID = '<script>alert("csv")</script>"\'><img src=x onerror=alert(1)>'
# Within a login ID's 60 characters: a longer one is refused before it is checked.
SIGN_IN_LOGIN_ID = '<script>alert("signin")</script>"\'><img src=x onerror=1>'
CONTRACT_NAME = '<script>alert("contract")</script>"\'><img src=x onerror=alert(1)>'
# What a reflected parameter (search, filter, next) carries.
REFLECTED = '<script>alert("query")</script>"\'><img src=x onerror=alert(1)>'
# What a spreadsheet would run.
FORMULAS = {"display_name": "=1+2", "title": "+SUM(1)", "department": "@SUM(1)", "phone": "-1+1"}
FORMULA_DEVICE_NAME = '=HYPERLINK("http://x")'
FORMULA_LOGIN_ID = "=cmd|' /C calc'!A0"

UNESCAPED = re.compile(r"<script>alert|<img src=x onerror|<svg onload")

# Pages that list a field must show it, escaped (so an empty page cannot pass).
SHOWN_ON_CONSOLE = {
    "accounts:user-list": [EMAIL, DISPLAY_NAME],
    "accounts:user-edit": [EMAIL, DISPLAY_NAME, TITLE, DEPARTMENT, NICKNAME],
    "accounts:user-delete": [NICKNAME, DISPLAY_NAME, TITLE, DEPARTMENT],
    "csvimport:user-import": [FILE_NAME],
    "csvimport:user-import-job": [FILE_NAME, CSV_LOGIN_ID],
    "devicekeys:key-list": [DEVICE_NAME],
    "devicekeys:key-detail": [DEVICE_NAME, USER_AGENT],
    "devicekeys:key-rename": [DEVICE_NAME],
    "devicekeys:key-delete": [DEVICE_NAME],
    "devicekeys:user-keys-stop": [DEVICE_NAME],
    "audit:entry-list": [DEVICE_NAME, DISPLAY_NAME, EMAIL, NICKNAME],
}
# Pages that read a parameter back must show it, escaped.
REFLECTED_ON = {
    "accounts:user-list",
    "devicekeys:key-list",
    "devicekeys:key-issue",
    "devicekeys:key-rename",
    "devicekeys:key-delete",
    "devicekeys:key-detail",
    "audit:entry-list",
}
SHOWN_TO_THE_USER = {
    "accounts:user-home": [NICKNAME, DISPLAY_NAME, TITLE, DEPARTMENT, DEVICE_NAME],
    "accounts:profile-edit": [NICKNAME, DISPLAY_NAME, TITLE, DEPARTMENT],
}


def html(response) -> str:
    return response.content.decode()


def leaks(page: str) -> list[str]:
    return UNESCAPED.findall(page)


def missing(page: str, values) -> list[str]:
    return [value for value in values if escape(value) not in page]


def hostile_query(list_url: str) -> str:
    """Every parameter a console page reads back, with markup (and a `next` that
    passes the same-list check, so it reaches the page)."""
    names = ["q", "login_id", "sort", "status", "action", "date_from", "date_to", "page"]
    values = dict.fromkeys(names, REFLECTED)
    values["next"] = f"{list_url}?q={REFLECTED}"
    return "?" + urlencode(values)


@pytest.fixture
def world(admin_a, contract_a, make_user):
    """Contract A with an object of every kind FILLERS makes, each text field holding
    markup; returns the objects by filler and the user ID's own signed-in browser."""

    def make_user_once(contract, login_id=None, **fields):
        # a_key makes its user with a_user: both name the same user ID.
        return User.objects.filter(login_id=login_id).first() or make_user(
            contract, login_id, **fields
        )

    objects = {filler: filler(contract_a, make_user_once) for filler in set(FILLERS.values())}
    [user] = {obj for obj in objects.values() if isinstance(obj, User)}
    [key] = [obj for obj in objects.values() if isinstance(obj, DeviceKey)]
    [job] = [obj for obj in objects.values() if isinstance(obj, ImportJob)]

    # The administrator sets the profile, the user ID their nickname.
    services.user_change(
        contract=contract_a,
        actor=admin_a,
        user=user,
        login_id=user.login_id,
        email=EMAIL,
        display_name=DISPLAY_NAME,
        title=TITLE,
        department=DEPARTMENT,
    )
    services.user_profile_change(
        contract=contract_a,
        actor=user,
        user=user,
        nickname=NICKNAME,
        display_name=DISPLAY_NAME,
        title=TITLE,
        department=DEPARTMENT,
    )
    # The key is renamed, then registered by a browser whose User-Agent holds markup.
    key_services.device_key_rename(
        contract=contract_a, key=key, device_name=DEVICE_NAME, actor=admin_a
    )
    user_browser = browser(USER_AGENT)
    assert sign_in(user_browser, user.login_id).url == KEY_STEP
    assert enter_key(user_browser, key.key).url == HOME

    # A CSV file whose login IDs hold markup and a formula: the job's report.
    rows = io.StringIO()
    csv.writer(rows).writerows(
        [(CSV_LOGIN_ID, "Hn5vRt2Wq8", "a@example.jp"), (FORMULA_LOGIN_ID, "Tz4kMw9Qx2", "b@x.jp")]
    )
    result = user_import(
        contract=contract_a, actor=admin_a, content=rows.getvalue().encode(), dry_run=True
    )
    assert {p.login_id for p in result.problems} == {CSV_LOGIN_ID, FORMULA_LOGIN_ID}
    # The importer writes the job's outcome itself (csvimport.tasks._JobProgress).
    ImportJob.objects.filter(pk=job.pk).update(
        file_name=FILE_NAME, problems=[problem.as_dict() for problem in result.problems]
    )

    # A sign-in failing with markup as its login ID (an entry of no contract).
    Client(HTTP_USER_AGENT=USER_AGENT).post(LOGIN, {"username": SIGN_IN_LOGIN_ID, "password": "x"})
    # The contract's name, as contract_create(name=...) sets it.
    Contract.objects.filter(pk=contract_a.pk).update(name=CONTRACT_NAME)

    # What a spreadsheet would take as formulas, for the CSV downloads.
    formula_user = services.user_create(
        contract=contract_a,
        actor=admin_a,
        login_id="formula-user",
        password=PASSWORD,
        email="formula@example.jp",
        **FORMULAS,
    )
    key_services.device_key_issue(
        contract=contract_a, user=formula_user, actor=admin_a, device_name=FORMULA_DEVICE_NAME
    )
    return {"objects": objects, "user": user, "key": key, "job": job, "browser": user_browser}


def console_url(name, kwargs, objects) -> str:
    return reverse(name, kwargs={kwarg: objects[FILLERS[(name, kwarg)]].pk for kwarg in kwargs})


@pytest.mark.parametrize(
    ("field", "code"),
    [("login_id", "login_id_characters"), ("phone", "phone_characters")],
)
def test_login_id_and_phone_refuse_markup(contract_a, field, code):
    # Within both fields' lengths, so that the character rule is the one that refuses it
    # (a longer value gets the length error alone: tests/security/test_bounded_work.py).
    fields = {"login_id": "plain-user", "email": "plain@example.jp", field: DISPLAY_NAME}
    with pytest.raises(ValidationError) as refused:
        services.user_create(
            contract=contract_a, actor=SETUP, password=PASSWORD, notify_user=False, **fields
        )
    assert code in {error.code for error in refused.value.error_dict[field]}
    assert not User.objects.filter(email="plain@example.jp").exists()


def test_no_console_page_shows_markup_unescaped(world, admin_a):
    console = Client()
    login_verified(console, admin_a)
    seen, problems = set(), []
    for name, _route, kwargs in PATTERNS:
        url = console_url(name, kwargs, world["objects"])
        for query in ("", hostile_query(reverse("devicekeys:key-list"))):
            response = console.get(url + query)
            assert response.status_code < 500, (name, query)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue  # a POST-only URL, a CSV download, the progress JSON
            page = html(response)
            problems += [(name, query, leak) for leak in leaks(page)]
            if query:
                shown = [REFLECTED] if name in REFLECTED_ON else []
            else:
                seen.add(name)
                shown = SHOWN_ON_CONSOLE.get(name, [])
            problems += [(name, query, "not shown", value) for value in missing(page, shown)]
    assert problems == []
    assert set(SHOWN_ON_CONSOLE) | REFLECTED_ON <= seen  # each was looked at


def test_the_rename_message_shows_the_name_escaped(world, admin_a):
    renamed = '<script>alert("rename")</script>'
    console = Client()
    login_verified(console, admin_a)
    response = console.post(
        reverse("devicekeys:key-rename", args=[world["key"].pk]),
        {"device_name": renamed},
        follow=True,
    )
    page = html(response)
    assert leaks(page) == []
    assert f"端末名を「{escape(renamed)}」に変更しました" in page


def test_no_page_of_the_user_id_shows_markup_unescaped(world):
    user_browser = world["browser"]
    for name, shown in SHOWN_TO_THE_USER.items():
        page = html(user_browser.get(reverse(name)))
        assert leaks(page) == [], name
        assert missing(page, shown) == [], name
    page = html(user_browser.get(reverse("accounts:password-change")))
    assert leaks(page) == []
    # The sign-in page reads back `next` and the login ID typed.
    response = Client().post(
        f"{LOGIN}?{urlencode({'next': REFLECTED})}", {"username": REFLECTED, "password": "x"}
    )
    assert response.status_code == 200
    assert leaks(html(response)) == []
    assert escape(REFLECTED) in html(response)


def test_no_support_page_of_django_admin_shows_markup_unescaped_or_a_hash(world, support_staff):
    staff = Client()
    login_verified(staff, support_staff)
    hashes = list(User.objects.values_list("password", flat=True))
    problems = []
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls = [
            reverse(f"{prefix}_changelist"),
            reverse(f"{prefix}_changelist") + "?" + urlencode({"q": REFLECTED}),
            *(
                reverse(f"{prefix}_change", args=[pk])
                for pk in model.objects.values_list("pk", flat=True)
            ),
        ]
        for url in urls:
            response = staff.get(url)
            assert response.status_code == 200, url
            problems += [(url, leak) for leak in leaks(html(response))]
            problems += [(url, "password hash") for hashed in hashes if hashed in html(response)]
    assert problems == []

    def change_page(obj):
        meta = obj._meta
        return html(
            staff.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
        )

    assert missing(change_page(world["user"]), [EMAIL, DISPLAY_NAME, TITLE, DEPARTMENT]) == []
    assert missing(change_page(world["key"]), [DEVICE_NAME]) == []
    assert missing(change_page(world["user"].contract), [CONTRACT_NAME]) == []
    failed = AuditEntry.objects.get(action=Action.SIGN_IN_FAILED)
    assert missing(change_page(failed), [SIGN_IN_LOGIN_ID, USER_AGENT]) == []
    audit_list = html(staff.get(reverse("admin:audit_auditentry_changelist")))
    assert missing(audit_list, [DEVICE_NAME, SIGN_IN_LOGIN_ID]) == []


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("name", "plain", "neutralised"),
    [
        (
            "accounts:user-export",
            [EMAIL, DISPLAY_NAME, TITLE, DEPARTMENT],
            [f"'{value}" for value in FORMULAS.values()],
        ),
        ("audit:entry-download", [DEVICE_NAME, USER_AGENT, NICKNAME], []),
        ("csvimport:user-import-report", [CSV_LOGIN_ID], [f"'{FORMULA_LOGIN_ID}"]),
    ],
    ids=["user-export", "audit-log", "import-report"],
)
def test_csv_downloads_carry_markup_as_plain_text_and_no_formula(
    world, admin_a, name, plain, neutralised
):
    console = Client()
    login_verified(console, admin_a)
    kwargs = {"pk": world["job"].pk} if name == "csvimport:user-import-report" else {}
    rows = csv_rows(console.get(reverse(name, kwargs=kwargs)))

    cells = [cell for row in rows for cell in row]
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    text = "\n".join(cells)
    assert [value for value in plain if value not in text] == []
    assert [value for value in neutralised if value not in cells] == []
    if name == "audit:entry-download":  # the formula device name opens a target cell
        assert any(cell.startswith(f"'{FORMULA_DEVICE_NAME}") for cell in cells)
