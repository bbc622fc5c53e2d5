"""The language switch, and every page of the console in each language.

The walk signs in and goes through every screen of the administrator and of a
user ID, in their states worth seeing (errors, confirmation, results). On each
page it reads what a person sees or hears: the text, the names given to screen
readers (aria-label, visually hidden text), the titles, the labels of the card
layout (data-label) and the messages a script shows later (data-text-*,
data-rename-*). Data is not UI: the values the database holds (login IDs,
names, keys, log entries ...) and the support phone number are taken out first; so
are code samples and elements in another language than the page's (the names of the
languages in the switch). The service name and the support contact are UI.

In English no Japanese may remain; in Japanese no English word may remain but the
technical terms of TERMS. The walk runs on the compiled translations (`make test`
compiles them first), and it checks every page like the flows do (check_page).
"""

import re
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import ImportJob, User
from api.models import AppRegistration
from api.registrations import app_registration_create
from audit.models import AuditEntry
from devicekeys import services as key_services
from devicekeys.models import DeviceKey
from devicekeys.rules import DEFAULT_DEVICE_NAME
from tests.conftest import PASSWORD, SETUP
from tests.e2e.browsing import ProgressRequests, check_page, open_menu_item, sign_in, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]|[A-Za-z]")
# What stays as it is in the Japanese UI: technical terms, names, and the guide's
# example of a run of characters in the password rules.
TERMS = {
    "CSV",
    "ID",
    "IP",
    "UTF-8",
    "BOM",
    "Shift_JIS",
    "CP932",
    "MiB",
    "Excel",
    "AMS",
    "abcd",
    "API",
    "iOS",
    "Android",
    "QR",
    "PRO",  # of the service's name, フレッツ・あずけ～る PRO
    "Google",  # the authenticator apps by their names
    "Microsoft",
    "Authenticator",
}
SWITCH = {"ja": ("日本語", "Switch"), "en": ("English", "切替")}  # option, button before it

_PAGE_TEXTS = """() => {
  const language = document.documentElement.lang;
  const ui = (el) => !el.closest("code, pre, script, style, [hidden]")
    && !(el.closest("[lang]") && el.closest("[lang]").lang !== language);
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && ui(node.parentElement) && node.textContent.trim()) {
      texts.push(node.textContent.trim());
    }
  }
  const spoken = new RegExp("^(aria-label|aria-description|title|placeholder|alt"
    + "|data-label|data-text-.+|data-rename-(label|failed))$");
  for (const el of document.body.querySelectorAll("*")) {
    if (!ui(el)) continue;
    for (const name of el.getAttributeNames()) {
      const value = el.getAttribute(name).trim();
      if (spoken.test(name) && value) texts.push(value);
    }
  }
  return texts;
}"""


def data_pattern(typed: set[str]) -> re.Pattern:
    """What the pages may show that is data, not UI: what the walk typed, what the
    database holds, the support phone number; each as a whole word, longest first.
    (The service name and the support contact are UI: translated like the rest.)"""
    values = set(typed) | {settings.SUPPORT_PHONE}
    for user in User.objects.all():
        values |= {user.login_id, user.email, user.nickname, user.display_name, user.title}
        values |= {user.department, user.phone}
    for key in DeviceKey.objects.all():
        values |= {key.device_name, key.key, key.last_user_agent, str(key.last_ip or "")}
    for entry in AuditEntry.objects.all():
        values |= {entry.actor_login_id, entry.target, str(entry.actor_ip or "")}
        values |= {str(value) for pair in entry.changes.values() for value in pair}
    for app in AppRegistration.objects.all():
        values |= {app.device_name, str(app.last_ip or "")}
    for job in ImportJob.objects.all():
        values |= {job.file_name} | {problem["login_id"] for problem in job.problems}
    words = sorted((re.escape(value) for value in values if value), key=len, reverse=True)
    # The name the console gives a key issued without one (端末-N) is data in any
    # language, and so it is where the help text names it.
    unnamed = re.escape(DEFAULT_DEVICE_NAME.split("%")[0])
    return re.compile(rf"(?<![\w.@-])(?:{'|'.join(words)})(?![\w.@-])|{unnamed}")


@dataclass
class Walk:
    """The pages seen in one language, and what each showed in the other."""

    language: str
    typed: set[str] = field(default_factory=set)
    leftovers: dict[str, list[str]] = field(default_factory=dict)

    def open_sign_in(self, page) -> None:
        page.goto("/login/")
        if self.language != "ja":
            switch_language(page, self.language)

    def visit(self, page, url: str, name: str) -> None:
        page.goto(url)
        self.see(page, name)

    def send(self, page, name: str, fields: dict, button="main button[type=submit]") -> None:
        """Fill in the fields (an id, or the name of a form field), send, see the result."""
        for selector, value in fields.items():
            self.typed.add(value)
            page.fill(selector if selector.startswith("#") else f"#id_{selector}", value)
        with page.expect_navigation():
            page.locator(button).click()
        self.see(page, name)

    def see(self, page, name: str) -> None:
        check_page(page)
        assert page.evaluate("() => document.documentElement.lang") == self.language
        data = data_pattern(self.typed)
        found = []
        for text in page.evaluate(_PAGE_TEXTS):
            ui = data.sub(" ", text)
            if self.language == "en" and JAPANESE.search(ui):
                found.append(text)
            if self.language == "ja" and set(LATIN_WORD.findall(ui)) - TERMS:
                found.append(text)
        if found:
            self.leftovers[name] = sorted(set(found))

    def report(self) -> str:
        other = {"en": "Japanese", "ja": "English"}[self.language]
        lines = [f"{other} left on the {self.language} pages:"]
        for name, texts in self.leftovers.items():
            lines += [f"  {name}:"] + [f"    {text[:140]!r}" for text in texts]
        return "\n".join(lines)


def switch_language(page, language: str) -> None:
    """The switch in the footer: choose the language, then the button."""
    option, button = SWITCH[language]
    page.locator("#language-select").select_option(label=option)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_language_is_switched_to_english_and_back(page, admin_a, users_a):
    sign_in(page, "admin-a")
    open_menu_item(page, "利用者ID管理")

    page.get_by_label("表示言語").select_option(label="English")
    page.get_by_role("button", name="切替").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("User IDs")
    expect(page.get_by_role("link", name="Edit taro-a")).to_be_visible()
    check_page(page, screenshot="user-list-en")

    page.get_by_label("Language").select_option(label="日本語")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("利用者ID一覧")
    expect(page).to_have_url(re.compile("/console/users/$"))


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_is_in_one_language(
    language, page, new_page, admin_a, users_a, task_worker, mailoutbox
):
    taro, hana = users_a
    contract = admin_a.contract
    issue = key_services.device_key_issue
    registered = issue(contract=contract, user=hana, actor=SETUP, device_name="Office PC")
    key_services.device_key_register(contract=contract, key=registered, actor=hana)
    stopped = issue(contract=contract, user=hana, actor=SETUP, device_name="Tablet")
    key_services.device_key_stop(contract=contract, key=stopped, actor=SETUP)
    walk = Walk(language)

    walk.open_sign_in(page)
    walk.see(page, "sign-in")
    walk.send(page, "sign-in, wrong password", {"username": "admin-a", "password": "wrong"})
    walk.send(page, "console", {"password": PASSWORD})

    walk.visit(page, "/console/users/", "user list")
    walk.send(page, "user list, nothing found", {"#user-search": "nobody"}, "[role=search] button")
    walk.visit(page, "/console/users/new/", "user create")
    walk.send(page, "user create, errors", {}, "button[name=next]")
    new_user = {"login_id": "ito.k", "password": "Mw4pQz8Tr2", "email": "ito@example.jp"}
    new_user |= {"password_confirm": new_user["password"], "email_confirm": new_user["email"]}
    walk.send(page, "user create, confirm", new_user, "button[name=next]")
    walk.send(page, "user create, done", {}, "button[name=create]")
    walk.visit(page, f"/console/users/{taro.pk}/edit/", "user edit")
    walk.send(page, "user edit, errors", {"email_confirm": "other@example.jp"})
    walk.visit(page, f"/console/users/{taro.pk}/delete/", "user delete")
    hanas_app, _tokens = app_registration_create(
        contract=contract, user=hana, client="ios", device_name="hana iPhone"
    )
    walk.visit(page, f"/console/users/{hana.pk}/delete/", "user delete, with keys and an app")
    walk.visit(page, f"/console/users/{hana.pk}/sign-out/", "sign out everywhere, with an app")
    walk.visit(page, f"/console/users/{hana.pk}/apps/", "app sign-ins of a login ID")
    walk.visit(page, f"/console/users/{hana.pk}/apps/{hanas_app.pk}/end/", "end an app sign-in")
    walk.send(page, "app sign-ins, one ended", {})
    walk.visit(page, f"/console/users/{hana.pk}/apps/end/", "end every app sign-in")
    walk.visit(page, f"/console/users/{hana.pk}/sign-out/", "sign out everywhere")
    walk.send(page, "app sign-ins, signed out everywhere", {})

    walk.visit(page, "/console/users/import/", "CSV import")
    progress = ProgressRequests(page)
    for button, content, result in [
        ("check", b"x,short,not-a-mail\n", "CSV import, rejected"),
        ("create", b"kato01,Rk3vNp8Wq2,kato@example.jp\n", "CSV import, done"),
    ]:
        page.goto("/console/users/import/")
        page.locator("#id_file").set_input_files(
            files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": content}]
        )
        walk.send(page, "CSV import, waiting", {}, f"button[name={button}]")
        progress.settle()
        task_worker()
        expect(page.locator("[data-import-progress]")).to_have_count(0)  # reloaded by itself
        walk.see(page, result)
    walk.visit(page, "/console/users/import/", "CSV import, with the recent imports")

    keys = "/console/device-keys"
    walk.visit(page, f"{keys}/", "key list")
    walk.visit(page, f"{keys}/?status=invalid", "key list, nothing found")
    walk.visit(page, f"{keys}/issue/", "key issue")
    walk.send(page, "key issue, errors", {}, "main form[method=post] button")
    walk.visit(page, f"{keys}/issue/?login_id=nobody", "key issue, a login ID not found")
    walk.visit(page, f"{keys}/{stopped.pk}/issued/", "key issued")
    unnamed = issue(contract=contract, user=hana, actor=SETUP)
    walk.visit(page, f"{keys}/{unnamed.pk}/issued/", "key issued, named by default")
    key_services.device_key_delete(contract=contract, key=unnamed, actor=SETUP)
    walk.visit(page, f"{keys}/{registered.pk}/issued/", "key issued, registered since")
    walk.visit(page, f"{keys}/{registered.pk}/", "key detail")
    walk.visit(page, f"{keys}/{registered.pk}/rename/", "key rename")
    walk.send(page, "key rename, errors", {"device_name": ""})
    walk.visit(page, f"{keys}/{registered.pk}/delete/", "key delete")
    walk.visit(page, f"{keys}/{registered.pk}/reissue/", "key reissue")
    walk.visit(page, f"{keys}/{registered.pk}/stop/", "key stop")
    walk.visit(page, f"{keys}/{stopped.pk}/unstop/", "key unstop")
    walk.visit(page, f"{keys}/users/{hana.pk}/stop/", "stop every key of a login ID")
    walk.visit(page, f"{keys}/access/", "access settings")
    walk.visit(page, "/console/logs/", "audit log")
    walk.visit(page, "/console/users/999999/edit/", "not found")

    # 環境設定 and 二段階認証
    walk.visit(page, "/console/settings/", "settings")
    walk.visit(page, "/console/settings/password/", "settings, password")
    walk.send(page, "settings, password, errors", {})
    walk.visit(page, "/console/settings/email/", "settings, email")
    walk.send(page, "settings, email, errors", {})
    walk.visit(page, "/settings/confirm/?next=/console/settings/email/", "confirm it's you")
    walk.send(page, "confirm it's you, errors", {})
    token = account_services.email_change_request(
        contract=contract, actor=SETUP, user=admin_a, email="new-a@example.jp"
    )
    walk.visit(page, f"/console/settings/email/confirm/{token}/", "settings, email link")
    walk.visit(page, "/console/settings/email/confirm/broken/", "settings, email link broken")
    walk.visit(page, "/settings/two-step/", "two-step setup")
    walk.send(page, "two-step app", {}, "form[action$='/app/'] button")
    walk.send(page, "two-step app, errors", {"code": "12"})
    secret = page.locator("code.secret").inner_text()
    page.wait_for_timeout(1100)  # django-otp's wait after one wrong code
    walk.send(page, "recovery codes", {"code": totp_code(secret)})
    codes = page.locator(".recovery-codes code").all_inner_texts()
    walk.visit(page, "/settings/two-step/", "two-step setup, enrolled")
    walk.visit(page, "/settings/confirm/", "confirm it's you, with a code")
    walk.send(page, "confirm it's you, with a code, errors", {"code": "12"})
    verify = new_page()
    walk.open_sign_in(verify)
    walk.send(verify, "two-step verify", {"username": "admin-a", "password": PASSWORD})
    walk.send(verify, "two-step verify, errors", {"code": "12"}, "main .button-primary")
    # django-otp's wait after wrong codes (set here, so that no click races its 1 s), then
    # a recovery code that leaves 3, and the sign-out.
    TOTPDevice.objects.filter(user=admin_a).update(
        throttling_failure_count=8, throttling_failure_timestamp=timezone.now()
    )
    walk.send(verify, "two-step verify, wait", {"code": "123456"}, "main .button-primary")
    expect(verify.locator("#id_code_error")).to_contain_text("3")  # 128 s: 3 minutes
    StaticDevice.objects.filter(user=admin_a).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    StaticToken.objects.filter(device__user=admin_a).exclude(token__in=codes[:4]).delete()
    walk.send(verify, "few recovery codes left", {"code": codes[0]}, "main .button-primary")
    assert StaticToken.objects.filter(device__user=admin_a).count() == 3
    expect(verify.locator(".message-warning")).to_contain_text("3")
    walk.visit(verify, "/settings/two-step/", "two-step setup, few recovery codes left")
    walk.send(verify, "signed out", {}, "form[action$='/logout/'] button")
    expect(verify.locator(".message-success")).to_be_visible()

    # パスワードをお忘れの方, in a browser signed in as nobody
    forgot = new_page()
    walk.open_sign_in(forgot)
    walk.visit(forgot, "/login/forgot/", "password reset")
    walk.send(forgot, "password reset, errors", {})
    walk.send(forgot, "password reset, sent", {"login_id": "hana-a"})
    task_worker()
    link = re.search(r"https?://\S+", mailoutbox[-1].body).group(0)
    walk.visit(forgot, link, "password reset, new password")
    walk.send(forgot, "password reset, new password, errors", {})
    walk.visit(forgot, "/login/reset/MQ/broken-link/", "password reset, invalid link")

    # taro-a, in a browser of their own: the key step, home, the self-service, refusals.
    key = issue(contract=contract, user=taro, actor=SETUP)
    user = new_page()
    walk.open_sign_in(user)
    walk.send(user, "key step", {"username": "taro-a", "password": PASSWORD})
    wrong_key = "AAAAAAAA" if key.key != "AAAAAAAA" else "BBBBBBBB"
    walk.send(user, "key step, wrong key", {"key": wrong_key})
    walk.send(user, "user home", {"key": key.key})
    walk.visit(user, "/home/profile/", "profile")
    walk.send(user, "profile, errors", {"phone": "not a phone"})
    taros_app, _tokens = app_registration_create(
        contract=contract, user=taro, client="tool", device_name="sync tool"
    )
    walk.visit(user, "/home/apps/", "own app sign-ins")
    walk.visit(user, f"/home/apps/{taros_app.pk}/end/", "end an own app sign-in")
    walk.send(user, "own app sign-ins, one ended", {})
    walk.visit(user, "/home/apps/end/", "end every own app sign-in")
    walk.visit(user, "/home/password/", "password change")
    walk.send(user, "password change, errors", {})
    walk.visit(user, "/console/", "console refused to a user ID")
    key.refresh_from_db()
    key_services.device_key_stop(contract=contract, key=key, actor=SETUP)
    walk.visit(user, "/home/", "device refused")

    assert not walk.leftovers, walk.report()
