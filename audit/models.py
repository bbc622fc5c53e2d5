from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.actions import Action
from core.scoping import ContractScopedQuerySet


class ActorRole(models.TextChoices):
    ADMINISTRATOR = "administrator", _("管理者")
    USER = "user", _("利用者")
    SUPPORT = "support", _("サポート担当")
    SYSTEM = "system", _("システム")
    ANONYMOUS = "anonymous", _("未ログイン")


class AuditEntry(models.Model):
    """One thing that happened, written in the same transaction as the change.

    The actor and the target are copied as text, so an entry outlives the
    account or key it names. `changes` maps a field to [old, new]; passwords and
    key values never appear in it (see audit.services.record).
    """

    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    contract = models.ForeignKey(
        "accounts.Contract",
        verbose_name=_("契約"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    actor_login_id = models.CharField(_("操作者"), max_length=254, blank=True)
    actor_role = models.CharField(_("操作者の種別"), max_length=16, choices=ActorRole.choices)
    actor_ip = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    actor_user_agent = models.CharField(_("ユーザーエージェント"), max_length=255, blank=True)
    target = models.CharField(_("対象"), max_length=254, blank=True)
    changes = models.JSONField(_("変更内容"), default=dict, blank=True)

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "操作ログ")
        verbose_name_plural = pgettext_lazy("model plural", "操作ログ")
        indexes = [
            # ログ管理 reads one contract's newest entries first, page by page (keyset).
            models.Index(fields=["contract", "-id"], name="audit_contract_newest"),
            models.Index(fields=["contract", "created_at"], name="audit_contract_period"),
            models.Index(fields=["created_at"], name="audit_created_at"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"
