"""The outbox in Django admin at /support/: failed mails are visible, a device key
not yet delivered is not, and support staff can send failed mails again."""

import pytest
from django.db import transaction

from notifications.models import Notification, Status
from notifications.services import notify
from tests.conftest import login_verified

CHANGELIST = "/support/notifications/notification/"


@pytest.fixture
def support_client(client, support_staff):
    login_verified(client, support_staff)
    return client


@pytest.fixture
def failed_key_mail(users_a):
    with transaction.atomic():
        notification = notify(
            "device_key_issued", user=users_a[0], key="KkeJ8cZG", device_name="Chrome"
        )
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.FAILED, attempts=1, last_error="SMTPRecipientsRefused: 550 No such user"
    )
    return notification


def test_support_staff_see_the_failed_mails_and_why(support_client, failed_key_mail):
    response = support_client.get(CHANGELIST, {"status__exact": "failed"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "taro-a@example.jp" in page
    assert "端末認証キー発行" in page


def test_an_undelivered_device_key_is_not_shown_to_support_staff(support_client, failed_key_mail):
    response = support_client.get(f"{CHANGELIST}{failed_key_mail.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "550 No such user" in page
    assert "Chrome" in page
    assert "KkeJ8cZG" not in page


def test_a_mail_is_found_by_the_id_in_its_header(support_client, failed_key_mail, users_a):
    with transaction.atomic():
        notify("user_created", user=users_a[1])

    response = support_client.get(CHANGELIST, {"q": str(failed_key_mail.pk)})

    assert response.context["cl"].result_count == 1


def test_support_staff_send_a_failed_mail_again(
    support_client, failed_key_mail, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(
            CHANGELIST,
            {"action": "resend", "_selected_action": [failed_key_mail.pk]},
            follow=True,
        )

    assert "1通の送信失敗メールを再送します。" in response.content.decode()
    [mail] = mailoutbox
    assert mail.to == ["taro-a@example.jp"]
    assert "KkeJ8cZG" in mail.body
    assert Notification.objects.get(pk=failed_key_mail.pk).status == Status.SENT


def test_the_outbox_cannot_be_edited_in_admin(support_client, failed_key_mail):
    response = support_client.post(
        f"{CHANGELIST}{failed_key_mail.pk}/change/", {"recipient": "evil@example.jp"}
    )
    assert response.status_code == 403
    assert Notification.objects.get(pk=failed_key_mail.pk).recipient == "taro-a@example.jp"
