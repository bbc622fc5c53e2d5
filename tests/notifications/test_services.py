"""notify() as the features call it, observed the way their tests do: the mail in
`mailoutbox` once the commit callbacks have run (tests run the delivery task on
the ImmediateBackend, see tests/conftest.py)."""

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.transaction import TransactionManagementError

from notifications import kinds
from notifications.models import Notification, Status
from notifications.rendering import TRACE_HEADER
from notifications.services import notify
from tests.conftest import PASSWORD


@pytest.fixture
def taro(users_a):
    return users_a[0]


def test_the_mail_leaves_only_once_the_change_has_committed(
    taro, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            notify(kinds.USER_CREATED, user=taro)
        assert mailoutbox == []  # committed, but the callbacks have not run yet

    [mail] = mailoutbox
    assert mail.to == ["taro-a@example.jp"]
    assert "利用者IDが作成されました" in mail.subject
    assert "admin-a" in mail.body


def test_a_rolled_back_change_sends_nothing(taro, mailoutbox, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify("user_created", user=taro)
        raise RuntimeError("the change fails")

    assert mailoutbox == []
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_notify_outside_a_transaction_is_refused(make_contract, make_user, mailoutbox):
    user = make_user(make_contract().contract)
    with pytest.raises(TransactionManagementError):
        notify("user_created", user=user)
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        ("user_created", {"password": PASSWORD}),
        ("user_changed", {"new_password": PASSWORD}),
        ("device_key_issued", {"key": "KkeJ8cZG"}),  # no device name
        ("device_key_issued", {"key": 12345678, "device_name": "Chrome"}),
        ("user_changed", {"changed_fields": "email"}),
    ],
)
def test_a_context_that_does_not_fit_the_kind_is_refused(taro, kind, context):
    with pytest.raises(TypeError):
        notify(kind, user=taro, **context)
    assert not Notification.objects.exists()


def test_an_unknown_kind_is_refused(taro):
    with pytest.raises(ValueError, match="user_renamed"):
        notify("user_renamed", user=taro)


def test_a_deleted_users_mail_still_goes_to_their_old_address(
    taro, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify("user_deleted", user=taro)
        taro.delete()

    [mail] = mailoutbox
    assert mail.to == ["taro-a@example.jp"]
    assert "taro-a" in mail.body
    assert "利用者IDを削除しました" in mail.body


def test_a_changed_password_is_announced_but_never_sent(
    contract_a, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user(contract_a, "tom-a", language="en")
    new_password = PASSWORD + "-new"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        user.password = make_password(new_password)
        user.email = "tom.new@example.jp"
        user.save()
        notify("user_changed", user=user, changed_fields=["email"], password_changed=True)

    [mail] = mailoutbox
    assert mail.to == ["tom.new@example.jp"]
    assert "Your password has been changed" in mail.body
    assert new_password not in mail.body
    assert new_password not in mail.subject
    assert new_password not in str(Notification.objects.get().context)


def test_changed_fields_given_as_labels_are_shown_as_given(
    taro, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify("user_changed", user=taro, changed_fields=["部署", "役職"])

    assert "・部署" in mailoutbox[0].body
    assert "・役職" in mailoutbox[0].body
    assert "パスワードが変更されました" not in mailoutbox[0].body


def test_a_language_the_console_lacks_gets_japanese(
    contract_a, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user(contract_a, "pierre-a", language="fr")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify("user_created", user=user)

    assert "利用者IDが作成されました" in mailoutbox[0].subject


def test_the_administrators_own_mail_names_them_as_the_administrator(
    admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify("user_changed", user=admin_a, changed_fields=["email"])

    assert "管理者（ログインID: admin-a）" in mailoutbox[0].body


def test_the_device_key_is_mailed_then_wiped_from_the_outbox(
    taro, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = notify("device_key_issued", user=taro, key="KkeJ8cZG", device_name="Chrome")

    assert "端末認証キー: KkeJ8cZG" in mailoutbox[0].body
    assert "端末名: Chrome" in mailoutbox[0].body
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert "key" not in notification.context


def test_each_mail_names_its_outbox_row_for_support(
    users_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = notify("user_created", user=users_a[0])
        second = notify("user_created", user=users_a[1])

    headers = [mail.extra_headers for mail in mailoutbox]
    assert [h[TRACE_HEADER] for h in headers] == [str(first.pk), str(second.pk)]
    assert headers[0]["Message-ID"] != headers[1]["Message-ID"]
    assert f"通知番号 {first.pk}" in mailoutbox[0].body
