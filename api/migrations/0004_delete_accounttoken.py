from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("api", "0003_app_registrations_from_tokens")]

    operations = [migrations.DeleteModel(name="AccountToken")]
