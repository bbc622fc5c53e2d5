"""Django admin for support staff: every change goes through the services."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from accounts.models import Contract, Role, User
from audit.actions import Action
from audit.models import AuditEntry
from tests.conftest import PASSWORD, login_verified
from tests.devicekeys.browser import HOME, signed_in_user

ADD = reverse("admin:accounts_user_add")


@pytest.fixture
def support_client(client, support_staff):
    login_verified(client, support_staff)
    return client


def form_data(contract, **overrides):
    data = {
        "contract": contract.pk,
        "login_id": "sato01",
        "email": "sato@example.jp",
        "display_name": "",
        "title": "",
        "department": "",
        "phone": "",
        "password": PASSWORD,
        "notify_user": "on",
    }
    data.update(overrides)
    return data


def test_support_creates_a_user_id_through_the_service(
    support_client, contract_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(ADD, form_data(contract_a))
    assert response.status_code == 302
    user = User.objects.get(login_id="sato01")
    assert user.contract == contract_a and user.role == Role.USER
    assert user.check_password(PASSWORD)
    assert [m.to for m in mailoutbox] == [["sato@example.jp"]]
    entry = AuditEntry.objects.get(action=Action.USER_CREATED)
    assert (entry.actor_login_id, entry.actor_role) == ("support-1", "support")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"password": "abcd1234"}, "連続した文字を4つ以上"),
        ({"login_id": "taro-a"}, "既に使用されています"),
        ({"phone": "03(1234)"}, "半角数字と記号"),
    ],
)
def test_a_broken_rule_is_refused_with_its_message(
    support_client, contract_a, users_a, mailoutbox, overrides, message
):
    response = support_client.post(ADD, form_data(contract_a, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.filter(role=Role.USER).count() == 2
    assert not AuditEntry.objects.filter(action=Action.USER_CREATED).exists()


def test_the_1000th_user_is_refused(support_client, contract_a):
    User.objects.bulk_create(
        User(login_id=f"u-{i:04d}", email=f"u{i}@example.jp", contract=contract_a)
        for i in range(Contract.USER_LIMIT)
    )
    response = support_client.post(ADD, form_data(contract_a))
    assert "999個まで" in response.content.decode()
    assert not User.objects.filter(login_id="sato01").exists()


def test_support_changes_a_user_id_and_never_sees_the_hash(support_client, users_a):
    taro = users_a[0]
    url = reverse("admin:accounts_user_change", args=[taro.pk])
    page = support_client.get(url).content.decode()
    assert taro.password not in page
    data = form_data(taro.contract, login_id="taro-a", email=taro.email, title="部長", password="")
    assert support_client.post(url, data).status_code == 302
    taro.refresh_from_db()
    assert taro.title == "部長"
    assert AuditEntry.objects.get(action=Action.USER_CHANGED).changes == {"title": ["", "部長"]}


def test_a_password_set_by_support_ends_the_user_ids_sessions(support_client, users_a):
    taro = users_a[0]
    taros_browser = signed_in_user(taro)
    url = reverse("admin:accounts_user_change", args=[taro.pk])
    kept = form_data(taro.contract, login_id="taro-a", email=taro.email, password="")
    assert support_client.post(url, kept).status_code == 302
    assert taros_browser.get(HOME).status_code == 200  # no new password: nothing ends
    changed = {**kept, "password": "Zr8wKq3Xv6"}
    assert support_client.post(url, changed).status_code == 302
    assert taros_browser.get(HOME).url.startswith(reverse("accounts:login"))


def test_administrators_cannot_be_edited_there(support_client, admin_a):
    url = reverse("admin:accounts_user_change", args=[admin_a.pk])
    support_client.post(url, form_data(admin_a.contract, login_id="hijack"))
    admin_a.refresh_from_db()
    assert admin_a.login_id == "admin-a"


def test_administrators_and_support_staff_are_shown_read_only_without_the_hash(
    support_client, admin_a, support_staff
):
    for account in (admin_a, support_staff):
        response = support_client.get(reverse("admin:accounts_user_change", args=[account.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert account.email in page
        assert account.password not in page
        assert 'name="login_id"' not in page  # nothing to submit


def test_delete_goes_through_the_service(support_client, users_a):
    taro = users_a[0]
    url = reverse("admin:accounts_user_delete", args=[taro.pk])
    support_client.post(url, {"post": "yes"})
    assert not User.objects.filter(pk=taro.pk).exists()
    assert AuditEntry.objects.filter(action=Action.USER_DELETED, target="taro-a").exists()


def test_lift_sign_in_throttle(support_client, admin_a, settings):
    from django.test import Client

    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser.post(reverse("accounts:login"), {"username": "admin-a", "password": "Wrong7pass"})
    assert AccessAttempt.objects.exists()
    support_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "lift_sign_in_throttle", "_selected_action": [admin_a.pk]},
    )
    assert not AccessAttempt.objects.exists()
    response = browser.post(
        reverse("accounts:login"), {"username": "admin-a", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=Action.SIGN_IN_THROTTLE_LIFTED).exists()
