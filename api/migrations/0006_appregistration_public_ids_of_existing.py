"""Every registration made before public ids gets its own random one."""

from django.db import migrations

from api.rules import new_public_id


def name_each(apps, schema_editor):
    AppRegistration = apps.get_model("api", "AppRegistration")
    for pk in AppRegistration.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
        AppRegistration.objects.filter(pk=pk).update(public_id=new_public_id())


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_appregistration_public_id"),
    ]

    operations = [migrations.RunPython(name_each, migrations.RunPython.noop)]
