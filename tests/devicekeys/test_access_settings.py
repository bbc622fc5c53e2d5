"""アクセス設定 as the administrator sees it."""

import re

from django.urls import reverse

from audit.models import AuditEntry
from devicekeys.models import AccessSetting
from devicekeys.selectors import access_setting_get
from tests.conftest import login_verified

ACCESS = reverse("devicekeys:access-settings")


def test_the_menu_item_is_live(admin_client_a):
    console = admin_client_a.get(reverse("accounts:console")).text
    assert f'href="{ACCESS}"' in console


def test_defaults_device_authentication_required_and_no_mail(admin_client_a, contract_a):
    response = admin_client_a.get(ACCESS)
    form = response.text
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert re.search(r'<input type="checkbox" name="device_auth_required"[^>]* checked>', form)
    assert not re.search(r'<input type="checkbox" name="notify_on_register"[^>]* checked>', form)
    assert not AccessSetting.objects.exists()  # the defaults need no row
    setting = access_setting_get(contract=contract_a)
    assert (setting.device_auth_required, setting.notify_on_register) == (True, False)


def test_saving_changes_only_this_contract(admin_client_a, contract_a, contract_b):
    response = admin_client_a.post(ACCESS, {"notify_on_register": "on"})
    assert response.url == ACCESS
    assert "アクセス設定を保存しました" in admin_client_a.get(ACCESS).text
    mine = access_setting_get(contract=contract_a)
    assert (mine.device_auth_required, mine.notify_on_register) == (False, True)
    theirs = access_setting_get(contract=contract_b)
    assert (theirs.device_auth_required, theirs.notify_on_register) == (True, False)
    entry = AuditEntry.objects.get(action="access_setting_changed")
    assert entry.contract == contract_a and entry.actor_login_id == "admin-a"

    admin_client_a.post(ACCESS, {"device_auth_required": "on"})
    assert AccessSetting.objects.filter(contract=contract_a).count() == 1
    assert access_setting_get(contract=contract_a).device_auth_required is True


def test_saving_without_a_change_writes_no_audit_entry(admin_client_a):
    admin_client_a.post(ACCESS, {"device_auth_required": "on"})
    assert not AuditEntry.objects.filter(action="access_setting_changed").exists()


def test_only_the_administrator_reaches_it(client, users_a, support_staff):
    assert client.get(ACCESS).url.startswith(reverse("accounts:login"))
    login_verified(client, support_staff)
    assert client.get(ACCESS).status_code == 403
