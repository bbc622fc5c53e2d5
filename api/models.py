from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import ContractScopedModel
from devicekeys.rules import DEVICE_NAME_MAX_LENGTH, Client


class ApiClient(models.Model):
    """A resource server allowed to introspect tokens (the storage service), known by
    its client ID and a random secret kept only as its SHA-256 (256 random bits need
    no slow hash: the introspection of every request of every app stays fast).
    Created by `manage.py create_api_client`, revoked by support staff."""

    name = models.CharField(_("名前"), max_length=100)
    client_id = models.CharField(_("クライアントID"), max_length=64, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    revoked_at = models.DateTimeField(_("無効化日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("APIクライアント")
        verbose_name_plural = _("APIクライアント")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccountToken(ContractScopedModel):
    """An app's or tool's access token bound to the login ID alone: what the token
    endpoint gives where アクセス設定 does not require device authentication. Only its
    SHA-256 is kept. It opens nothing while the contract requires device
    authentication, and goes with the login ID. (A token bound to a key lives in
    DeviceKey.credential_hash, like a browser's credential.)"""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    client = models.CharField(_("登録した端末の種類"), max_length=16, choices=Client.choices)
    device_name = models.CharField(_("端末名"), max_length=DEVICE_NAME_MAX_LENGTH)
    created_at = models.DateTimeField(_("登録日時"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("アプリのトークン（ログインID）")
        verbose_name_plural = _("アプリのトークン（ログインID）")

    def __str__(self):
        return self.device_name
