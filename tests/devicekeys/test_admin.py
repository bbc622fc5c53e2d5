"""Device keys in Django admin: masked, and 停止 through the service."""

from django.urls import reverse

from audit.actions import Action
from audit.models import AuditEntry
from devicekeys import services
from devicekeys.rules import Status
from tests.conftest import SETUP


def test_support_sees_keys_masked_and_stops_them(client, support_staff, contract_a, users_a):
    key = services.device_key_issue(contract=contract_a, user=users_a[0], actor=SETUP)
    client.force_login(support_staff)
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
