"""Each registration's token from before expiry becomes its access token, with no
expiry: it keeps opening as long as its registration does (docs/API.md, "Tokens from
before expiry"). Its introspection gives exp = now + API_ACCESS_TOKEN_SECONDS."""

from django.db import migrations


def move_tokens(apps, schema_editor):
    AppRegistration = apps.get_model("api", "AppRegistration")
    AppToken = apps.get_model("api", "AppToken")
    rows = AppRegistration.objects.values_list("pk", "token_hash", "created_at")
    AppToken.objects.bulk_create(
        [
            AppToken(registration_id=pk, kind="access", token_hash=hashed, issued_at=created)
            for pk, hashed, created in rows.iterator()
        ],
        batch_size=1000,
    )


def move_back(apps, schema_editor):
    AppRegistration = apps.get_model("api", "AppRegistration")
    AppToken = apps.get_model("api", "AppToken")
    for pk in AppRegistration.objects.values_list("pk", flat=True):
        first = AppToken.objects.filter(registration_id=pk, kind="access").order_by("pk").first()
        if first is not None:
            AppRegistration.objects.filter(pk=pk).update(token_hash=first.token_hash)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0008_app_tokens"),
    ]

    operations = [migrations.RunPython(move_tokens, move_back)]
