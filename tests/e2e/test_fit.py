"""Every page fits the screen: at 1280 px and at 375 px, in Japanese and in English,
no page scrolls sideways, no table cell is cut at 1280 px, and no badge, status or
address is broken over two lines (browsing.fit_problems).

The pages are the URLconf's: every route of a person's pages, each visited by whom
it is for (FOR_WHOM) and filled with an object of the walk's contract where it takes
an id (the isolation matrix's FILLERS, tests/security/test_matrix.py, and OWN_IDS).
A new route is walked without a word here; a new id is taught there or in OWN_IDS.
Downloads and the answers to scripts (no HTML) are left out. Then the error pages:
each error template of templates/ as the console answers with it (error_urls.py),
a form sent without its CSRF token, a 10,000-character search, a missing id; and the
key issue page at 999 user IDs.

With SCREENSHOTS=1 the pages of SCREENSHOTS_OF are saved in docs/screenshots/ as
<name>-<language>-<width>.png (`make screenshots`).
"""

import base64
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import USERS_PER_CONTRACT, Role, User
from api.registrations import app_registration_create
from csvimport.tasks import import_job_start
from devicekeys import services as key_services
from devicekeys.rules import Client
from tests.conftest import PASSWORD, SETUP
from tests.e2e.browsing import DESKTOP_WIDTH, PHONE_WIDTH, SCREENSHOTS, fit_problems, totp_code
from tests.security.test_matrix import (
    FILLERS,
    a_key,
    a_user,
    an_app_registration,
    an_import_job,
    patterns_under,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Whose pages begin where: the rest of the URLconf is no person's page (the app API,
# its metadata, the language switch's POST, Django admin for support staff).
FOR_WHOM = {
    "anonymous": ("login/", "logout/"),
    "user": ("home/",),
    "administrator": ("console/", "settings/"),
}
NO_PAGES = ("api/", ".well-known/", "i18n/", "support/")
# The passkey ceremony's endpoints answer its script, never a person.
SCRIPT_ONLY = "otp_webauthn:"


def routes(*prefixes):
    return [p for p in patterns_under(*prefixes) if not p[0].startswith(SCRIPT_ONLY)]


# Ids the isolation matrix has no filler for: a user ID's own pages, a reset link.
OWN_IDS = {
    ("accounts:own-app-end", "registration_pk"): "own app registration",
    ("accounts:password-reset-confirm", "uidb64"): "broken link",
    ("accounts:password-reset-confirm", "token"): "broken link",
}

# The screenshots `make screenshots` renews: a route's name, or a page of this walk.
SCREENSHOTS_OF = {
    "devicekeys:key-list": "key-list",
    "accounts:user-list": "user-list",
    "devicekeys:key-issue": "key-issue",
    "devicekeys:key-reissue": "confirm-key-reissue",
    "devicekeys:key-stop": "confirm-key-stop",
    "devicekeys:key-unstop": "confirm-key-unstop",
    "devicekeys:key-delete": "confirm-key-delete",
    "devicekeys:user-keys-stop": "confirm-user-keys-stop",
    "accounts:user-delete": "confirm-user-delete",
    "accounts:user-sign-out": "confirm-user-sign-out",
    "accounts:user-apps-end": "confirm-user-apps-end",
    "audit:entry-list": "audit-log",
    "csvimport:user-import-job": "user-import-job",
}
LANGUAGES = ("ja", "en")
# Taller than this, a phone's screenshot shows its top only.
PHONE_SHOT_HEIGHT = 2400

ERROR_TEMPLATES = sorted(
    path.stem
    for path in Path(settings.TEMPLATES[0]["DIRS"][0]).glob("*.html")
    if re.match(r"\d{3}", path.stem)
)


def has_own_csrf_page() -> bool:
    """Django's own page of a refused CSRF token is not the console's: English only,
    its inline style refused by the console's CSP. Once the console has a page of its
    own (a view, or Django's view with the console's template), the walk sees it."""
    if settings.CSRF_FAILURE_VIEW != "django.views.csrf.csrf_failure":
        return True
    try:
        get_template("403_csrf.html")
    except TemplateDoesNotExist:
        return False
    return True


def test_every_page_of_a_person_is_walked():
    everything = {p[0] for p in routes("") if not p[1].startswith(NO_PAGES)}
    walked = {p[0] for p in routes(*sum(FOR_WHOM.values(), ()))} | {"accounts:home"}
    assert everything - walked == set(), "say in FOR_WHOM whose pages these are"


@dataclass
class Site:
    """What the walks of both languages share: the live server's address, the walk's
    contract, the objects the routes' ids name, which routes answer with a page."""

    url: str
    contract: object
    make_user: object
    ids: dict
    key: str  # taro-a's key, waiting for the walk's browser
    secret: str  # of admin-a's authenticator app
    pages: dict = field(default_factory=dict)


class Walk:
    """One browser page going through the console; what did not fit, by page."""

    def __init__(self, page, language: str, site: Site):
        self.page = page
        self.site = site
        self.language = language
        self.problems: dict[str, list[str]] = {}
        self.seen: list[str] = []

    def set_language(self) -> None:
        self.page.context.add_cookies(
            [
                {
                    "name": settings.LANGUAGE_COOKIE_NAME,
                    "value": self.language,
                    "url": self.site.url,
                }
            ]
        )

    def url_of(self, name: str, kwargs: tuple[str, ...]) -> str:
        values = {}
        for kwarg in kwargs:
            ids = self.site.ids
            made = ids.get((name, kwarg))
            if made is None:
                filler = FILLERS.get((name, kwarg))
                assert filler, f"teach FILLERS or OWN_IDS the id {kwarg} of {name}"
                if filler not in ids:
                    ids[filler] = filler(self.site.contract, self.site.make_user)
                made = ids[filler]
            values[kwarg] = made.pk
        return reverse(name, kwargs=values)

    def routes(self, whom: str) -> None:
        for name, _route, kwargs in routes(*FOR_WHOM[whom]):
            url = self.url_of(name, kwargs)
            if self.is_page(name, url):
                self.visit(url, name, screenshot=SCREENSHOTS_OF.get(name))

    def is_page(self, name: str, url: str) -> bool:
        """Whether the route answers with a page: not a download, not the answer to a
        script, not Django's empty 405 of a POST-only view. Asked once for all walks."""
        pages = self.site.pages
        if name not in pages:
            answer = self.page.request.get(url)
            html = answer.headers.get("content-type", "").startswith("text/html")
            pages[name] = html and bool(answer.body())
        return pages[name]

    def visit(self, url: str, name: str, *, screenshot: str | None = None) -> None:
        self.page.goto(url)
        self.see(name, screenshot=screenshot)

    def see(self, name: str, *, screenshot: str | None = None) -> None:
        self.page.wait_for_load_state()  # the stylesheet too
        self.seen.append(name)
        found = fit_problems(self.page)
        if found:
            self.problems[f"{name} ({self.page.url[:120]})"] = found
        if screenshot and os.environ.get("SCREENSHOTS") == "1":
            self.screenshot(screenshot)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size
        for width in (DESKTOP_WIDTH, PHONE_WIDTH):
            self.page.set_viewport_size({"width": width, "height": size["height"]})
            height = self.page.evaluate("() => document.documentElement.scrollHeight")
            if width == PHONE_WIDTH:
                height = min(height, PHONE_SHOT_HEIGHT)
            self.page.screenshot(
                path=SCREENSHOTS / f"{name}-{self.language}-{width}.png",
                full_page=True,
                clip={"x": 0, "y": 0, "width": width, "height": height},
                animations="disabled",
            )
        self.page.set_viewport_size(size)

    def sign_in(self, login_id: str, *, key: str = "", code: str = "") -> None:
        """The sign-in page, then the device key or the second step where asked."""
        self.page.goto("/login/")
        self.page.fill("#id_username", login_id)
        self.page.fill("#id_password", PASSWORD)
        self.send("main button[type=submit]")
        if key and self.page.locator("#id_key").count():
            self.see("device key step")
            self.page.fill("#id_key", key)
            self.send("main button[type=submit]")
        if code and self.page.locator("#id_code").count():
            self.see("second step", screenshot="two-step-verify")
            self.page.fill("#id_code", code)
            self.send("main .button-primary")
        expect(self.page.locator(".signed-in")).to_contain_text(login_id)

    def sign_out(self) -> None:
        self.page.goto("/")
        self.send("form[action$='/logout/'] button")

    def send(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.locator(button).first.click()

    def without_csrf_token(self, url: str) -> None:
        """A form sent without its token, as from a page kept open across a sign-out."""
        with self.page.expect_navigation():
            self.page.evaluate(
                """(url) => { const form = document.createElement("form");
                  form.method = "post"; form.action = url;
                  document.body.append(form); form.submit(); }""",
                url,
            )
        self.see("CSRF refused", screenshot="error-csrf")

    def report(self) -> str:
        lines = [f"Pages that do not fit, in {self.language}:"]
        for page, found in self.problems.items():
            lines += [f"  {page}:"] + [f"    {problem}" for problem in found]
        return "\n".join(lines)


@pytest.fixture
def site(live_server, admin_a, users_a, make_user):
    """Contract A with something on every page: keys in each state, among them one of
    a long login ID registered from an IPv6 address, app sign-ins, a CSV import that
    was refused, the log of all of it; taro-a has a key waiting for this browser."""
    contract = admin_a.contract
    taro, hana = users_a
    long_id = make_user(contract, "yamada.hanako.sales-department-tokyo")
    issue = key_services.device_key_issue
    office = issue(contract=contract, user=hana, actor=SETUP, device_name="Office PC")
    key_services.device_key_register(contract=contract, key=office, actor=hana, ip="192.0.2.10")
    tablet = issue(contract=contract, user=long_id, actor=SETUP, device_name="営業部のタブレット")
    key_services.device_key_register(
        contract=contract, key=tablet, actor=long_id, ip="2001:db8:85a3::8a2e:370:7334"
    )
    stopped = issue(contract=contract, user=hana, actor=SETUP, device_name="Tablet")
    key_services.device_key_stop(contract=contract, key=stopped, actor=SETUP)
    issue(contract=contract, user=long_id, actor=SETUP, device_name="会議室のノートPC（共用）")
    for _ in range(3):  # the waiting key of the long login ID becomes 無効
        key_services.device_key_record_wrong_entry(
            contract=contract, user=long_id, actor=long_id, ip="198.51.100.7"
        )
    taros_key = issue(contract=contract, user=taro, actor=SETUP)
    hanas_app, _ = app_registration_create(
        contract=contract,
        user=hana,
        client=Client.IOS,
        device_name="hana iPhone",
        ip="2001:db8:85a3::8a2e:370:7334",
    )
    taros_app, _ = app_registration_create(
        contract=contract, user=taro, client=Client.TOOL, device_name="sync tool"
    )
    job = import_job_start(
        contract=contract,
        actor=admin_a,
        file_name="staff.csv",
        content=b"x,short,not-a-mail\ntaro-a,Rk3vNp8Wq2,taro@example.jp\n",
    )
    device = TOTPDevice.objects.create(user=admin_a, name="authenticator", confirmed=True)
    broken = SimpleNamespace(pk="broken-link")
    ids = {
        a_user: taro,
        a_key: office,
        an_app_registration: hanas_app,
        an_import_job: job,
        ("accounts:own-app-end", "registration_pk"): taros_app,
        ("accounts:password-reset-confirm", "uidb64"): SimpleNamespace(pk="MQ"),
        ("accounts:password-reset-confirm", "token"): broken,
    }
    assert set(OWN_IDS) <= set(ids)
    secret = base64.b32encode(device.bin_key).decode()
    return Site(live_server.url, contract, make_user, ids, key=taros_key.key, secret=secret)


@pytest.mark.urls("tests.e2e.error_urls")
def test_every_page_fits_at_1280_and_375_px_in_both_languages(page, site, fill_contract):
    walks = [Walk(page, language, site) for language in LANGUAGES]
    for step, walk in enumerate(walks):
        walk.set_language()
        walk.routes("anonymous")
        walk.visit("/", "home")

        walk.sign_in("taro-a", key=site.key)
        walk.see("user home")
        walk.routes("user")
        walk.visit("/console/", "console refused to a user ID", screenshot="error-403-user")
        walk.sign_out()

        # The same code is accepted once: the second walk takes the next one.
        walk.sign_in("admin-a", code=totp_code(site.secret, steps_later=step))
        walk.routes("administrator")
        walk.visit(
            "/console/users/999999999/edit/", "no such user ID", screenshot="error-404-no-such-id"
        )
        walk.visit("/console/users/?q=" + "x" * 10_000, "a 10,000-character search")
        for template in ERROR_TEMPLATES:
            walk.visit(f"/error-pages/{template}/", template, screenshot=f"error-{template}")
        if has_own_csrf_page():
            walk.visit("/console/users/new/", "user create")
            walk.without_csrf_token("/console/users/new/")
        if walk is not walks[-1]:
            walk.sign_out()

    # The key issue page with as many user IDs as a contract may have.
    contract = site.contract
    users = User.objects.filter(contract=contract, role=Role.USER).count()
    fill_contract(contract, USERS_PER_CONTRACT.maximum - users)
    for walk in walks:
        walk.set_language()
        walk.visit(
            "/console/device-keys/issue/", "key issue, 999 user IDs", screenshot="key-issue-999"
        )

    for walk in walks:
        assert {"devicekeys:key-list", "accounts:user-list", "accounts:own-apps"} <= set(walk.seen)
    assert not any(walk.problems for walk in walks), "\n".join(w.report() for w in walks)
