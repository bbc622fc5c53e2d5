"""Device keys in Django admin: masked, and 停止 through the service."""

from django.urls import reverse

from audit.actions import Action
from audit.models import AuditEntry
from devicekeys import services
from devicekeys.models import DeviceKey
from devicekeys.rules import Status
from tests.conftest import SETUP, login_verified


def test_support_sees_keys_masked_and_stops_them(client, support_staff, contract_a, users_a):
    key = services.device_key_issue(contract=contract_a, user=users_a[0], actor=SETUP)
    login_verified(client, support_staff)
    page = client.get(reverse("admin:devicekeys_devicekey_changelist")).content.decode()
    assert key.key not in page
    assert "******" + key.key[-2:] in page

    client.post(
        reverse("admin:devicekeys_devicekey_changelist"),
        {"action": "stop_keys", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.status == Status.STOPPED
    entry = AuditEntry.objects.get(action=Action.DEVICE_KEY_STOPPED)
    assert entry.actor_role == "support"


def test_admin_shows_the_key_as_the_console_does_but_always_masked(
    client, admin_client_a, support_staff, key_a, register_key, issue_key, users_a
):
    registered = register_key(issue_key(users_a[0], device_name="Registered"))
    console = admin_client_a.get(reverse("devicekeys:key-detail", args=[registered.pk])).text
    login_verified(client, support_staff)
    admin_page = client.get(reverse("admin:devicekeys_devicekey_change", args=[registered.pk])).text
    shown = f'<code class="device-key">{registered.masked_key}</code>'
    assert shown in console and shown in admin_page
    assert "（登録済みのため末尾2文字のみ表示）" in console
    assert "（登録済みのため末尾2文字のみ表示）" in admin_page
    # An unregistered key: in clear on the console, masked in Django admin.
    listing = client.get(reverse("admin:devicekeys_devicekey_changelist")).text
    assert f'<code class="device-key">{key_a.masked_key}</code>' in listing
    assert key_a.key not in listing


def test_stopping_a_key_deleted_meanwhile_is_a_message_not_an_error(
    client, support_staff, key_a, monkeypatch
):
    from devicekeys import admin as key_admin

    stop = services.device_key_stop

    def console_deletes_it_first(*, contract, key, actor):
        DeviceKey.objects.filter(pk=key.pk).delete()
        return stop(contract=contract, key=key, actor=actor)

    monkeypatch.setattr(key_admin.services, "device_key_stop", console_deletes_it_first)
    login_verified(client, support_staff)
    response = client.post(
        reverse("admin:devicekeys_devicekey_changelist"),
        {"action": "stop_keys", "_selected_action": [key_a.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "0件の端末認証キーを停止しました" in response.text
