"""The tokens apps hold become app registrations (api.models.AppRegistration)."""

from django.db import migrations

# The kinds of client an app registers as (devicekeys.rules.APP_CLIENTS), as stored.
APP_CLIENTS = ("ios", "android", "desktop", "tool")


def registrations_from_tokens(apps, schema_editor):
    """Every token an app holds keeps working: each login-ID token (AccountToken) and
    each key-bound app credential (DeviceKey.credential_hash of a key an app
    registered) becomes an app registration under the same hash. A login-ID token
    of a contract that requires device authentication (the default without a row)
    opened nothing before; it ends for good, as switching device authentication on
    now ends one. A stopped key's app is suspended until 停止解除."""
    AccountToken = apps.get_model("api", "AccountToken")
    AppRegistration = apps.get_model("api", "AppRegistration")
    DeviceKey = apps.get_model("devicekeys", "DeviceKey")
    AccessSetting = apps.get_model("devicekeys", "AccessSetting")
    optional = set(
        AccessSetting.objects.filter(device_auth_required=False).values_list(
            "contract_id", flat=True
        )
    )
    registrations = []
    for token in AccountToken.objects.all():
        live = token.contract_id in optional
        registrations.append(
            AppRegistration(
                contract_id=token.contract_id,
                user_id=token.user_id,
                client=token.client,
                kind="account",
                device_name=token.device_name,
                token_hash=token.token_hash,
                state="active" if live else "ended",
                reason="" if live else "key_required",
                created_at=token.created_at,
                last_used_at=token.last_used_at,
                ended_at=None if live else token.created_at,
            )
        )
    keys = DeviceKey.objects.filter(registered_by__in=APP_CLIENTS).exclude(credential_hash="")
    for key in keys:
        stopped = key.status == "stopped"
        registrations.append(
            AppRegistration(
                contract_id=key.contract_id,
                user_id=key.user_id,
                client=key.registered_by,
                kind="key",
                device_key_id=key.pk,
                device_name=key.device_name,
                token_hash=key.credential_hash,
                state="suspended" if stopped else "active",
                reason="key_stopped" if stopped else "",
                created_at=key.registered_at,
                last_used_at=key.last_used_at,
                last_ip=key.last_ip,
            )
        )
    AppRegistration.objects.bulk_create(registrations, batch_size=500)
    keys.update(credential_hash="")


def tokens_from_registrations(apps, schema_editor):
    """Back: the registrations still open go where their tokens lived before."""
    AccountToken = apps.get_model("api", "AccountToken")
    AppRegistration = apps.get_model("api", "AppRegistration")
    DeviceKey = apps.get_model("devicekeys", "DeviceKey")
    live = AppRegistration.objects.exclude(state="ended").exclude(user=None)
    AccountToken.objects.bulk_create(
        AccountToken(
            contract_id=row.contract_id,
            user_id=row.user_id,
            token_hash=row.token_hash,
            client=row.client,
            device_name=row.device_name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
        )
        for row in live.filter(kind="account")
    )
    for row in live.filter(kind="key").exclude(device_key=None):
        DeviceKey.objects.filter(pk=row.device_key_id).update(credential_hash=row.token_hash)


class Migration(migrations.Migration):
    dependencies = [("api", "0002_app_registration")]

    operations = [migrations.RunPython(registrations_from_tokens, tokens_from_registrations)]
