from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0009_app_tokens_of_existing_registrations"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="appregistration",
            name="token_hash",
        ),
    ]
