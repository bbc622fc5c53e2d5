"""The support site (/support/, Django admin) shows no secret and is for support staff.

One of every secret the console keeps or sends is seeded: an administrator's
authenticator secret, recovery codes and passkey, device keys waiting and registered,
the apps' tokens, an API client's secret, the links and the key of mails still in the
outbox, a CSV file with its passwords, a mistyped password of a failed sign-in, a
session key. Then every page of the support site is fetched as support staff past the
second step, generated from admin.site._registry (index, each app, each model's list,
add page, and each object's change, delete and history pages): no secret is on any of
them. A model newly put on the support site fails `test_every_model_on_the_support_site_is_known`
until SEEN_BY_SUPPORT below says what it holds and the seeding makes one.
"""

import base64
import csv
import hashlib
import io

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import services
from accounts.models import ImportJob, Role, User
from api.services import api_client_create
from devicekeys import services as key_services
from notifications.models import Notification
from tests.api.conftest import grant, post_form
from tests.conftest import PASSWORD, SETUP, login_verified, task_backend
from tests.devicekeys.browser import sign_in, signed_in_user
from twostep import services as twostep
from twostep.admin import SECOND_FACTORS

SUPPORT = reverse("admin:index")
# Every model on the support site, and why support staff may see its pages. A model
# put there that is not named here fails the walk until its secrets are thought of.
SEEN_BY_SUPPORT = {
    "auth.group": "no secret (permission groups)",
    "axes.accessattempt": "failed sign-ins; a typed password or key is masked by django-axes",
    "axes.accesslog": "sign-ins: address, browser, times",
    "axes.accessfailurelog": "failed sign-ins: address, browser, times",
    "accounts.contract": "the contract's name",
    "accounts.user": "the profile; never the hash; factors only counted",
    "accounts.importjob": "the job's outcome; never its file",
    "devicekeys.devicekey": "keys masked, waiting or registered",
    "api.apiclient": "name and client id; never the secret",
    "api.appregistration": "an app's sign-in; never its token",
    "django_tasks_database.dbtaskresult": "a task's row: only ids as arguments",
    "notifications.notification": "the outbox; a link or a key in it masked",
    "audit.auditentry": "ログ管理: keys masked, never a password or a code",
    "ssf.stream": "a receiver's URL; never its authorization header",
    "ssf.securityevent": "an event's claims (ids only) and its delivery",
}
# Models whose rows the walk cannot make without other parts of the service.
NOT_SEEDED = {"auth.group", "axes.accesslog", "axes.accessfailurelog"}
TYPED_WRONG = "Mistyped-Secret-4821"  # the password of a failed sign-in


def label(model) -> str:
    return model._meta.label_lower


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def secrets(
    settings,
    admin_a,
    contract_a,
    users_a,
    contract_b,
    users_b,
    support_staff,
    django_capture_on_commit_callbacks,
    tmp_path,
):
    """Every secret of the service, made as the console makes it; returns them by name."""
    ssf_keys_dir = tmp_path
    # Tasks wait in the database (rows for the support site), mails stay in the outbox
    # with their secrets: no worker runs.
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    found: dict[str, str] = {"a password": PASSWORD}
    taro, hana = users_a

    # The administrator's factors: an authenticator app, recovery codes, a passkey.
    administrator = Client()
    login_verified(administrator, admin_a)
    app = TOTPDevice.objects.get(user=admin_a)
    found["authenticator secret"] = app.key
    found["authenticator secret (base32)"] = base64.b32encode(app.bin_key).decode()
    found["support's authenticator secret"] = TOTPDevice.objects.get(user=support_staff).key
    for n, code in enumerate(twostep.recovery_codes_renew(user=admin_a, actor=admin_a)):
        found[f"recovery code {n}"] = code
    credential_id, public_key = b"passkey-credential-id-0042", b"passkey-public-key-0042"
    WebAuthnCredential.objects.create(
        user=admin_a,
        name="Office PC",
        confirmed=True,
        credential_id=credential_id,
        public_key=public_key,
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    found["passkey credential id"] = credential_id.hex()
    found["passkey credential id (base64url)"] = b64url(credential_id)
    found["passkey credential id (sha256)"] = hashlib.sha256(credential_id).hexdigest()
    found["passkey public key"] = public_key.hex()
    found["administrator's session key"] = administrator.session.session_key

    with django_capture_on_commit_callbacks(execute=True):
        # Device keys: one waiting (in clear in its row), one registered by an app
        # (which got a key-bound token), one more; their mails wait in the outbox.
        waiting = key_services.device_key_issue(contract=contract_a, user=taro, actor=admin_a)
        found["waiting device key"] = waiting.key
        registered = key_services.device_key_issue(contract=contract_a, user=taro, actor=admin_a)
        found["registered device key"] = registered.key
        response = grant(device_key=registered.key)
        assert response.status_code == 200, response.content
        found["key-bound app token"] = response.json()["access_token"]
        # An app of a login ID alone (contract B without アクセス設定).
        key_services.access_setting_change(
            contract=contract_b, actor=SETUP, device_auth_required=False, notify_on_register=False
        )
        response = grant(username="jiro-b")
        assert response.status_code == 200, response.content
        found["login-ID app token"] = response.json()["access_token"]
        mailed = key_services.device_key_issue(contract=contract_a, user=hana, actor=admin_a)
        found["mailed device key"] = mailed.key

        # The storage service's client and its secret; a wrong secret tried too.
        api_client, secret = api_client_create(name="storage", actor=SETUP)
        found["API client secret"] = secret
        post_form(
            Client(),
            reverse("api:introspect"),
            {"token": "x", "client_id": api_client.client_id, "client_secret": secret + "x"},
        )

        # The storage service's event stream, its receiver's secret, and an event for it.
        settings.SSF_SIGNING_KEYS_FILE = str(ssf_keys_dir / "ssf-keys.json")
        authorization = "Bearer receiver-secret-7731"
        basic = base64.b64encode(f"{api_client.client_id}:{secret}".encode()).decode()
        response = Client(HTTP_AUTHORIZATION=f"Basic {basic}").post(
            "/api/ssf/streams",
            {
                "delivery": {
                    "method": "urn:ietf:rfc:8935",
                    "endpoint_url": "https://receiver.example.jp/events",
                    "authorization_header": authorization,
                },
                "events_requested": [
                    "https://schemas.openid.net/secevent/caep/event-type/credential-change"
                ],
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        found["a receiver's authorization header"] = authorization
        jiro = users_b[0]
        services.user_password_change(
            contract=contract_b, actor=jiro, user=jiro, password="Zt8wKq2Mn5"
        )

        # Mails with links: a password reset, a mail address change.
        services.password_reset_request(login_id="taro-a", ip="192.0.2.1")
        services.email_change_request(
            contract=contract_a, actor=admin_a, user=admin_a, email="new-a@example.jp"
        )

        # A CSV import waiting for its worker, its file (passwords and all) held.
        rows = io.StringIO()
        csv.writer(rows).writerows([("csv-user-1", "Kx8mQ2vLp7", "csv1@example.jp")])
        found["password in a CSV file"] = "Kx8mQ2vLp7"
        upload = SimpleUploadedFile("staff.csv", rows.getvalue().encode(), "text/csv")
        response = administrator.post(
            reverse("csvimport:user-import"), {"file": upload, "encoding": "auto", "create": "1"}
        )
        assert response.status_code == 302, response.content

    # A failed sign-in whose password may be a typo of the right one, with its
    # browser's CSRF token.
    csrf_token = "CsrfOfTheVictimsBrowser0123456789abcdefghijklmnopqrstuvwxyzABCD"
    sign_in(Client(), "taro-a", TYPED_WRONG, csrfmiddlewaretoken=csrf_token)
    found["mistyped password"] = TYPED_WRONG
    found["a browser's CSRF token"] = csrf_token

    # The links of the mails, as the outbox holds them until they are sent.
    for notification in Notification.objects.filter(context__has_key="link"):
        link = notification.context["link"]
        found[f"link of {notification.kind}"] = link
        found[f"token of {notification.kind}"] = link.rstrip("/").rsplit("/", 1)[-1]
    assert {"link of password_reset", "link of email_change_confirm"} <= set(found)
    assert ImportJob.objects.filter(content__isnull=False).exists()
    return found


def support_pages() -> list[str]:
    """Every page of the support site for the rows there are now."""
    urls = [SUPPORT]
    for model in admin.site._registry:
        meta = model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        urls += [
            reverse("admin:app_list", args=[meta.app_label]),
            reverse(f"{prefix}_changelist"),
            reverse(f"{prefix}_add"),
        ]
        for pk in model._default_manager.values_list("pk", flat=True):
            urls += [reverse(f"{prefix}_{page}", args=[pk]) for page in ("change", "delete")]
            urls.append(reverse(f"{prefix}_history", args=[pk]))
    return list(dict.fromkeys(urls))


def test_every_model_on_the_support_site_is_known():
    on_site = {label(model) for model in admin.site._registry}
    assert on_site - set(SEEN_BY_SUPPORT) == set(), "say in SEEN_BY_SUPPORT what it shows"
    assert not any(admin.site.is_registered(model) for model in SECOND_FACTORS)


def test_support_staff_see_no_secret_on_any_page(secrets, support_staff):
    unseeded = [
        label(model)
        for model in admin.site._registry
        if label(model) not in NOT_SEEDED and not model._default_manager.exists()
    ]
    assert unseeded == [], "seed a row of these, so that their pages are walked"
    staff = Client()
    login_verified(staff, support_staff)

    shown = []
    pages = support_pages()
    for url in pages:
        response = staff.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        page = response.content.decode()
        shown += [(url, name) for name, secret in secrets.items() if secret in page]
    assert shown == []
    assert len(pages) > 60  # every model's pages, and each object's


def test_the_support_site_shows_how_many_factors_an_administrator_has(secrets, support_staff):
    staff = login_verified(Client(), support_staff)
    admin_a = User.objects.get(login_id="admin-a")
    page = staff.get(reverse("admin:accounts_user_change", args=[admin_a.pk])).content.decode()
    assert "認証アプリ 1件、パスキー 1件、リカバリーコード残り 10件" in page


def test_support_staff_cannot_add_or_change_a_factor(secrets, support_staff):
    staff = login_verified(Client(), support_staff)
    admin_a = User.objects.get(login_id="admin-a")
    before = (
        TOTPDevice.objects.count(),
        StaticDevice.objects.count(),
        StaticToken.objects.count(),
        WebAuthnCredential.objects.count(),
    )
    for model in SECOND_FACTORS:
        meta = model._meta
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
        base = f"{SUPPORT}{meta.app_label}/{meta.model_name}/"
        for url in (base, f"{base}add/", f"{base}1/change/"):
            form = {"user": admin_a.pk, "name": "planted", "key": "00" * 20, "confirmed": "on"}
            assert staff.get(url).status_code == 404, url
            assert staff.post(url, form).status_code == 404, url
    after = (
        TOTPDevice.objects.count(),
        StaticDevice.objects.count(),
        StaticToken.objects.count(),
        WebAuthnCredential.objects.count(),
    )
    assert after == before
    assert not LogEntry.objects.exists()


def any_support_page() -> list[str]:
    """Pages of the support site anyone might open: the index, each model's list and add
    page, Django admin's own pages, and a page that does not exist."""
    pages = [
        SUPPORT,
        reverse("admin:login"),
        reverse("admin:logout"),
        reverse("admin:password_change"),
        f"{SUPPORT}no/such/page/",
    ]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
    return pages


@pytest.mark.parametrize("who", ["administrator", "user"])
def test_an_administrator_or_a_user_id_gets_a_clear_403(who, admin_a, users_a):
    if who == "administrator":
        browser = Client()
        browser.force_login(admin_a)
    else:
        browser = signed_in_user(users_a[0])
    for url in any_support_page():
        for method in (browser.get, browser.post):
            response = method(url)
            assert response.status_code == 403, (url, response.status_code)
            assert "この画面はサポート担当者のみご利用になれます。" in response.content.decode()
    english = browser.get(SUPPORT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This page is for support staff only." in english
    # In the console's frame, with the way back to the account's top page.
    assert 'class="site-header"' in english and reverse("accounts:home") in english


def test_anonymous_visitors_are_sent_to_sign_in(db):
    for url in any_support_page():
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("accounts:login") + "?next="), url


def test_support_staff_without_the_second_step_are_taken_to_it(support_staff):
    browser = Client()
    browser.force_login(support_staff)  # the password only
    for url in any_support_page():
        response = browser.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("twostep:verify"))


def test_a_support_member_who_is_not_active_staff_gets_403(support_staff):
    support_staff.is_staff = False
    support_staff.save()
    browser = login_verified(Client(), support_staff)
    assert browser.get(SUPPORT).status_code == 403
    assert support_staff.role == Role.SUPPORT
