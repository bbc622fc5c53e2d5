from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0004_delete_accounttoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="appregistration",
            name="public_id",
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
    ]
