import django.db.models
from django.db import migrations

import api.rules


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0006_appregistration_public_ids_of_existing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appregistration",
            name="public_id",
            field=django.db.models.CharField(
                default=api.rules.new_public_id, editable=False, max_length=32, unique=True
            ),
        ),
    ]
