"""The tokens apps held before app registrations keep working after the migration
(api 0003): a login-ID token (AccountToken) and a key-bound app credential (in
DeviceKey.credential_hash) introspect as before; a login-ID token of a contract that
requires device authentication, which opened nothing, is ended; a browser's
credential stays where it was."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from api.models import AppRegistration, AppToken
from api.services import api_client_create, token_introspect
from devicekeys.models import DeviceKey
from tests.conftest import SETUP

BEFORE = [
    ("api", "0001_initial"),
    ("devicekeys", "0005_app_registration"),
    ("accounts", "0004_account_settings"),
]


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _old_rows(apps):
    """Rows as the console wrote them before app registrations, through the models of then."""
    Contract = apps.get_model("accounts", "Contract")
    User = apps.get_model("accounts", "User")
    DeviceKey = apps.get_model("devicekeys", "DeviceKey")
    AccessSetting = apps.get_model("devicekeys", "AccessSetting")
    AccountToken = apps.get_model("api", "AccountToken")
    optional, required = Contract.objects.create(), Contract.objects.create()
    AccessSetting.objects.create(contract=optional, device_auth_required=False)
    taro = User.objects.create(login_id="taro-m", role="user", contract=optional, email="t@x.jp")
    jiro = User.objects.create(login_id="jiro-m", role="user", contract=required, email="j@x.jp")
    now = timezone.now()

    def key(user, client, credential, status="active"):
        return DeviceKey.objects.create(
            contract=user.contract,
            user=user,
            device_name=f"{client}-{credential}",
            key_hash="x",
            key_suffix="Zg",
            registered_at=now,
            credential_hash=_hash(credential),
            registered_by=client,
            status=status,
        )

    key(taro, "ios", "azd_1.phone")
    key(jiro, "tool", "azd_2.stopped", status="stopped")
    key(taro, "browser", "browser-cookie")
    AccountToken.objects.create(
        contract=optional, user=taro, token_hash=_hash("azu_tool"), client="tool", device_name="T"
    )
    AccountToken.objects.create(
        contract=required, user=jiro, token_hash=_hash("azu_dead"), client="tool", device_name="D"
    )


@pytest.mark.django_db(transaction=True)
def test_existing_tokens_keep_working_after_the_migration():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    _old_rows(executor.loader.project_state(BEFORE).apps)
    executor.migrate(executor.loader.graph.leaf_nodes())

    client, secret = api_client_create(name="storage", actor=SETUP)

    def active(token):
        answer = token_introspect(token, client_id=client.client_id, client_secret=secret)
        return answer["active"]

    assert active("azd_1.phone") and active("azu_tool")
    assert not active("azd_2.stopped") and not active("azu_dead")
    states = dict(AppRegistration.objects.values_list("device_name", "state"))
    assert states == {
        "ios-azd_1.phone": "active",
        "tool-azd_2.stopped": "suspended",
        "T": "active",
        "D": "ended",
    }
    assert AppRegistration.objects.get(device_name="D").reason == "key_required"
    # An app's token is its registration's now; a browser's cookie stays with its key.
    kept = dict(DeviceKey.objects.values_list("registered_by", "credential_hash"))
    assert kept == {"ios": "", "tool": "", "browser": _hash("browser-cookie")}
    # Each registration made before public ids has a random one of its own.
    public = list(AppRegistration.objects.values_list("public_id", flat=True))
    assert len(set(public)) == 4 and all(p.startswith("reg_") and len(p) > 20 for p in public)


BEFORE_EXPIRY = [("api", "0007_appregistration_public_id_unique")]


@pytest.mark.django_db(transaction=True)
def test_a_token_from_before_expiry_keeps_working_until_stopped():
    """api 0008–0010: a registration's token becomes its access token with no expiry.
    It introspects as active with exp = now + API_ACCESS_TOKEN_SECONDS (so that no
    cache keeps it longer than a new token), long after 300 seconds, and its
    registration's 停止 stops it as before."""
    executor = MigrationExecutor(connection)
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "api"]
    executor.migrate(BEFORE_EXPIRY)
    executor.loader.build_graph()
    apps = executor.loader.project_state(BEFORE_EXPIRY + others).apps
    Contract = apps.get_model("accounts", "Contract")
    User = apps.get_model("accounts", "User")
    contract = Contract.objects.create()
    taro = User.objects.create(login_id="taro-m", role="user", contract=contract, email="t@x.jp")
    created = timezone.now() - timedelta(days=90)
    apps.get_model("api", "AppRegistration").objects.create(
        contract=contract,
        user=taro,
        client="tool",
        kind="account",
        device_name="T",
        token_hash=_hash("azu_old-token"),
        public_id="reg_old",
        created_at=created,
    )
    executor.migrate(executor.loader.graph.leaf_nodes())

    client, secret = api_client_create(name="storage", actor=SETUP)
    answer = token_introspect("azu_old-token", client_id=client.client_id, client_secret=secret)
    now = int(timezone.now().timestamp())
    assert answer["active"] is True and answer["sid"] == "reg_old"
    assert answer["iat"] == int(created.timestamp())
    assert now + 299 <= answer["exp"] <= now + 301
    [token] = AppToken.objects.all()
    assert (token.kind, token.expires_at) == ("access", None)

    AppRegistration.objects.update(state="ended", reason="password_changed")
    answer = token_introspect("azu_old-token", client_id=client.client_id, client_secret=secret)
    assert answer == {"active": False}
