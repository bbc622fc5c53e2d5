import django.db.models.deletion
from django.db import migrations, models


def forget_entries(apps, schema_editor):
    """The rows only live for the throttle's period (15 minutes) and name no contract:
    they are dropped rather than guessed."""
    apps.get_model("devicekeys", "WrongEntryFromAddress").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_importjob"),
        ("devicekeys", "0003_wrong_entries_one_counter"),
    ]

    operations = [
        migrations.RunPython(forget_entries, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="wrongentryfromaddress",
            name="devicekeys__ip_3e1512_idx",
        ),
        migrations.AddField(
            model_name="wrongentryfromaddress",
            name="contract",
            field=models.ForeignKey(
                default=0,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.contract",
            ),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="wrongentryfromaddress",
            index=models.Index(
                fields=["contract", "ip", "at"], name="devicekeys__contrac_566519_idx"
            ),
        ),
    ]
