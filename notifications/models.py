import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.validators import LOGIN_ID_MAX_LENGTH
from core.outbox import OutboxQuerySet, OutboxRow, Status
from notifications import schedule
from notifications.kinds import Kind


class NotificationQuerySet(OutboxQuerySet):
    ATTEMPT_LEASE = schedule.ATTEMPT_LEASE
    REQUEUE_AFTER = schedule.REQUEUE_AFTER


class Notification(OutboxRow):
    """One notification mail in the outbox: the source of truth of its delivery.

    Recorded by `notifications.services.notify` in the transaction of the change
    that causes it, with a snapshot of everything the mail says (the user row may
    be deleted in the same transaction). Delivery tasks only ever carry its id.
    """

    kind = models.CharField(_("種類"), max_length=32, choices=Kind.choices)
    # The idempotency key of this mail; also its Message-ID.
    key = models.UUIDField(_("識別キー"), default=uuid.uuid4, unique=True, editable=False)
    contract = models.ForeignKey(
        "accounts.Contract",
        verbose_name=_("契約"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    login_id = models.CharField(_("ログインID"), max_length=LOGIN_ID_MAX_LENGTH)
    recipient = models.EmailField(_("宛先"))
    language = models.CharField(_("言語"), max_length=8)
    administrator_login_id = models.CharField(
        _("管理者のログインID"), max_length=LOGIN_ID_MAX_LENGTH, blank=True
    )
    context = models.JSONField(_("内容"), default=dict, blank=True)
    # Start of the retry period (GIVE_UP_AFTER); a resend starts a new one.
    queued_at = models.DateTimeField(_("送信開始日時"), default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "通知メール")
        verbose_name_plural = pgettext_lazy("model plural", "通知メール")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="notification_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values), name="notification_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "failed_at"]),
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} → {self.login_id}"
