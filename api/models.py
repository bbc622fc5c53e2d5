from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from api import rules
from api.rules import Event, Kind, State, TokenKind
from core.scoping import ContractScopedModel
from devicekeys.models import DeviceKey
from devicekeys.rules import DEVICE_NAME_MAX_LENGTH, Client


class ApiClient(models.Model):
    """A resource server allowed to introspect tokens (the storage service), known by
    its client ID and a random secret kept only as its SHA-256 (256 random bits need
    no slow hash: the introspection of every request of every app stays fast).
    Created by `manage.py create_api_client`, revoked by support staff."""

    name = models.CharField(_("名前"), max_length=100)
    client_id = models.CharField(_("クライアントID"), max_length=64, unique=True)
    secret_hash = models.CharField(_("シークレットのハッシュ"), max_length=64, editable=False)
    # The resource server's own URL (RFC 8707 resource indicator: the storage service's
    # base URL), answered in introspection's `aud` beside the client ID. A resource
    # server that checks `aud` against its URL (django-oauth-toolkit does by default)
    # needs it; blank, `aud` is the client ID alone.
    resource_url = models.URLField(_("リソースのURL"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    revoked_at = models.DateTimeField(_("無効化日時"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "APIクライアント")
        verbose_name_plural = pgettext_lazy("model plural", "APIクライアント")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AppRegistration(ContractScopedModel):
    """An app's or tool's sign-in (アプリのログイン): what the token endpoint gave it.
    Its tokens (AppToken) are bound to a key's registration (`device_key`, `azd_…`)
    or to the login ID alone (`azu_…`). Its state and the reason it was suspended or
    ended follow api.rules; the grant, the refresh, the introspection, the
    revocation, the status call and the console's lists all read this one row."""

    # The registration's name outside the console, random (never the row's sequential
    # id): introspection's `sid` and the session that a Security Event Token names.
    public_id = models.CharField(
        _("公開ID"), max_length=32, unique=True, default=rules.new_public_id, editable=False
    )
    client = models.CharField(_("登録した端末の種類"), max_length=16, choices=Client.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ログインID"),
        on_delete=models.SET_NULL,  # ended with the login ID, kept to tell the app why
        null=True,
        related_name="app_registrations",
    )
    kind = models.CharField(_("ログインの種類"), max_length=16, choices=Kind.choices)
    device_key = models.ForeignKey(
        DeviceKey,
        verbose_name=_("端末認証キー"),
        on_delete=models.SET_NULL,  # ended with the key, kept to tell the app why
        null=True,
        blank=True,
        related_name="app_registrations",
    )
    device_name = models.CharField(_("端末名"), max_length=DEVICE_NAME_MAX_LENGTH)
    state = models.CharField(_("状態"), max_length=16, choices=State.choices, default=State.ACTIVE)
    reason = models.CharField(_("理由"), max_length=32, choices=Event.choices, blank=True)
    created_at = models.DateTimeField(_("登録日時"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)
    last_ip = models.GenericIPAddressField(_("最終利用IPアドレス"), null=True, blank=True)
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "アプリのログイン")
        verbose_name_plural = pgettext_lazy("model plural", "アプリのログイン")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=State.values), name="app_registration_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=Kind.values), name="app_registration_kind_valid"
            ),
            # In use: no reason. Suspended or ended: the reason kept.
            models.CheckConstraint(
                condition=models.Q(state=State.ACTIVE, reason="")
                | (~models.Q(state=State.ACTIVE) & ~models.Q(reason="")),
                name="app_registration_reason_unless_active",
            ),
            # A login-ID token has no key.
            models.CheckConstraint(
                condition=~models.Q(kind=Kind.ACCOUNT) | models.Q(device_key__isnull=True),
                name="app_registration_account_has_no_key",
            ),
        ]
        indexes = [models.Index(fields=["contract", "user", "state"])]

    def __str__(self):
        return self.device_name

    @property
    def can_end(self) -> bool:
        return rules.can_end(State(self.state))


class AppToken(models.Model):
    """A token an app registration holds (api.rules, "Its tokens"): an access token
    that expires, or a refresh token. Only its SHA-256 is kept, under the unique
    index the introspection of every request looks it up by. An access token from
    before expiry (the migration api 0008) has none: it opens as long as its
    registration does. A refresh token is used once (`rotated_at`); it is kept a
    while after that so that a second use is recognised."""

    registration = models.ForeignKey(
        AppRegistration, on_delete=models.CASCADE, related_name="tokens"
    )
    kind = models.CharField(max_length=8, choices=TokenKind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=TokenKind.values), name="app_token_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=TokenKind.REFRESH) | models.Q(rotated_at__isnull=True),
                name="app_token_only_refresh_rotates",
            ),
        ]
        indexes = [models.Index(fields=["registration", "kind"])]

    def __str__(self):
        return f"{self.kind} {self.registration_id}"
