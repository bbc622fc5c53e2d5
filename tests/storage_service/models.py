"""What the storage service keeps besides DOT's own cache (oauth2_provider's
AccessToken rows): which console session (`sid`) and which login ID (`sub`) each
cached token belongs to, so that an event naming them drops the right rows; and the
events received, for the tests to read."""

from django.db import models
from oauth2_provider.models import AccessToken


class CachedSession(models.Model):
    access_token = models.OneToOneField(AccessToken, on_delete=models.CASCADE)
    sid = models.CharField(max_length=100, db_index=True)
    sub = models.CharField(max_length=100, db_index=True)

    def __str__(self):
        return f"{self.sid} ({self.sub})"


class ReceivedEvent(models.Model):
    jti = models.CharField(max_length=200, unique=True)
    event_type = models.CharField(max_length=200)
    subject = models.JSONField()
    received_at = models.FloatField()  # time.time(): the tests compare it with theirs
    dropped = models.IntegerField(default=0)  # cached tokens it dropped

    def __str__(self):
        return self.event_type


class Stream(models.Model):
    """The stream this service created at the console, and its verification."""

    stream_id = models.CharField(max_length=200)
    verification_state = models.CharField(max_length=100)
    verified = models.BooleanField(default=False)

    def __str__(self):
        return self.stream_id
