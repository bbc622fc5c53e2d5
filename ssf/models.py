from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from api.models import ApiClient
from core.outbox import OutboxQuerySet, OutboxRow, Status
from ssf import rules
from ssf.rules import StreamStatus


class StreamQuerySet(models.QuerySet):
    def of_client(self, client: ApiClient):
        """The streams an API client may see and change: its own."""
        return self.filter(client=client)

    def receiving(self, event_type: str):
        """The streams an event of `event_type` is recorded for: asked for, not
        disabled, of a client not revoked (a paused stream keeps its events)."""
        return self.filter(
            events_delivered__contains=event_type,
            client__revoked_at__isnull=True,
        ).exclude(status=StreamStatus.DISABLED)


class Stream(models.Model):
    """An SSF event stream (SSF 1.0 §8.1.1) of an API client: where its receiver
    wants Security Event Tokens pushed, and which."""

    stream_id = models.CharField(
        _("ストリームID"), max_length=32, unique=True, default=rules.new_stream_id, editable=False
    )
    client = models.ForeignKey(
        ApiClient,
        verbose_name=_("APIクライアント"),
        on_delete=models.CASCADE,
        related_name="ssf_streams",
    )
    endpoint_url = models.CharField(_("受信URL"), max_length=rules.MAX_URL_LENGTH)
    # Sent as the Authorization header of every push; never shown back.
    authorization_header = models.CharField(
        _("認証ヘッダー"), max_length=rules.MAX_AUTHORIZATION_LENGTH, blank=True, editable=False
    )
    events_requested = models.JSONField(_("要求されたイベント"), default=list, blank=True)
    # Held as the JSON text of a list so that `receiving` finds streams by a substring.
    events_delivered = models.TextField(_("送信するイベント"), blank=True)
    description = models.CharField(_("説明"), max_length=rules.MAX_DESCRIPTION_LENGTH, blank=True)
    status = models.CharField(
        _("状態"), max_length=16, choices=StreamStatus.choices, default=StreamStatus.ENABLED
    )
    status_reason = models.CharField(
        _("状態の理由"), max_length=rules.MAX_REASON_LENGTH, blank=True
    )
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新日時"), default=timezone.now)
    last_verification_at = models.DateTimeField(_("最終検証日時"), null=True, blank=True)

    objects = StreamQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "イベントストリーム")
        verbose_name_plural = pgettext_lazy("model plural", "イベントストリーム")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=StreamStatus.values), name="ssf_stream_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.stream_id} → {self.endpoint_url}"


class SecurityEventQuerySet(OutboxQuerySet):
    ATTEMPT_LEASE = rules.ATTEMPT_LEASE
    REQUEUE_AFTER = rules.REQUEUE_AFTER

    def sendable(self):
        """Events of streams that take them now (a paused stream's wait). The stream is
        asked in a subquery of its own table, not a join: a join would make the claim's
        UPDATE select its row through `id IN (SELECT … FROM this table …)`, which
        PostgreSQL does not check again against the row another worker has just
        claimed, so two workers could both claim it."""
        enabled = Stream.objects.filter(status=StreamStatus.ENABLED)
        return self.filter(stream__in=enabled)


class SecurityEvent(OutboxRow):
    """One Security Event Token to push to one stream: the outbox row of its delivery
    (core.outbox), recorded in the transaction of the change it tells of. The claims
    are kept unsigned; they are signed when sent, by the key first at that moment."""

    stream = models.ForeignKey(
        Stream, verbose_name=_("ストリーム"), on_delete=models.CASCADE, related_name="events"
    )
    jti = models.CharField(_("イベントID"), max_length=64, unique=True)
    event_type = models.CharField(_("種類"), max_length=200)
    claims = models.JSONField(_("内容"))

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "セキュリティイベント")
        verbose_name_plural = pgettext_lazy("model plural", "セキュリティイベント")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="ssf_event_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.jti} ({self.event_type.rsplit('/', 1)[-1]})"
