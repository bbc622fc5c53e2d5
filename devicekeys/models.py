from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scoping import ContractScopedModel
from devicekeys import rules
from devicekeys.rules import Action, By, Client, KeyState, Refusal, Status


class DeviceKey(ContractScopedModel):
    """端末認証キー: lets one login ID in from one browser, phone app or tool.

    The key is a one-time enrollment code. While no device has registered it,
    `key` holds it in clear for the administrator to read out. Registration
    moves it to `key_hash` (salted, Django's password hasher), keeps only its
    last 2 characters in `key_suffix` for display, and empties `key`, so a
    registered key can never be entered or shown again. Status changes go
    through devicekeys.services, which ask devicekeys.rules.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("端末を利用するログインID"),
        on_delete=models.CASCADE,
        related_name="device_keys",
    )
    device_name = models.CharField(_("端末名"), max_length=rules.DEVICE_NAME_MAX_LENGTH)
    key = models.CharField(_("端末認証キー"), max_length=rules.KEY_LENGTH, blank=True)
    key_hash = models.CharField(
        _("登録済みのキーのハッシュ"), max_length=128, blank=True, editable=False
    )
    key_suffix = models.CharField(
        _("キーの末尾"), max_length=rules.KEY_VISIBLE_SUFFIX, editable=False
    )
    status = models.CharField(
        _("ステータス"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("キー作成日時"), default=timezone.now)
    registered_at = models.DateTimeField(_("キー登録日時"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)
    # The registered browser's credential (devicekeys.credentials): only its SHA-256.
    credential_hash = models.CharField(
        _("端末の登録情報のハッシュ"), max_length=64, blank=True, editable=False
    )
    last_ip = models.GenericIPAddressField(_("最終利用IPアドレス"), null=True, blank=True)
    last_user_agent = models.CharField(_("最終利用ブラウザ"), max_length=255, blank=True)
    # What registered the key: a browser, or an app or tool (the token API's client_id).
    registered_by = models.CharField(
        _("登録した端末の種類"), max_length=16, choices=Client.choices, blank=True
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "端末認証キー")
        verbose_name_plural = pgettext_lazy("model plural", "端末認証キー")
        constraints = [
            # Case-sensitive on SQLite and PostgreSQL alike (binary / deterministic collation).
            models.UniqueConstraint(
                fields=["contract", "key"],
                condition=~models.Q(key=""),
                name="device_key_unique_in_contract",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values),
                name="device_key_status_valid",
            ),
            # Unregistered: the key in clear, no hash. Registered: only the hash.
            models.CheckConstraint(
                condition=(
                    (~models.Q(key="") & models.Q(key_hash="", registered_at__isnull=True))
                    | (models.Q(key="", registered_at__isnull=False) & ~models.Q(key_hash=""))
                ),
                name="device_key_clear_until_registered",
            ),
            # One credential opens one key; the check of every request looks it up here.
            models.UniqueConstraint(
                fields=["credential_hash"],
                condition=~models.Q(credential_hash=""),
                name="device_key_credential_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(credential_hash="") | models.Q(registered_at__isnull=False),
                name="device_key_credential_only_when_registered",
            ),
        ]
        indexes = [
            models.Index(fields=["contract", "created_at"]),
            models.Index(fields=["contract", "registered_at"]),
            models.Index(fields=["contract", "user"]),
        ]

    def __str__(self):
        # Never the key: this string reaches logs and error pages.
        return self.device_name

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None

    @property
    def state(self) -> KeyState:
        return KeyState(Status(self.status), registered=self.is_registered)

    @property
    def masked_key(self) -> str:
        """The key masked but for its last characters, registered or not: what Django
        admin and ログ管理 show."""
        return rules.masked_key(self.key_suffix)

    @property
    def shown_key(self) -> str:
        """The key as the administrator sees it: in clear until registered, then masked."""
        return self.key or self.masked_key

    @property
    def can_stop(self) -> bool:
        return rules.allowed(Action.STOP, self.state, by=By.ADMINISTRATOR)

    @property
    def can_unstop(self) -> bool:
        return rules.allowed(Action.UNSTOP, self.state, by=By.ADMINISTRATOR)


class RetiredCredential(ContractScopedModel):
    """The hash of an app's token whose key was reissued or deleted before app
    registrations kept their reason (api.models.AppRegistration), and why: so that
    such an app asking GET /api/device/status with its old token is still told 再発行
    or 削除 rather than "unknown". Nothing new is written here: an app registration
    keeps its own reason now, and a browser's cookie is never asked about."""

    credential_hash = models.CharField(max_length=64, primary_key=True)
    reason = models.CharField(max_length=16, choices=Refusal.choices)
    retired_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.reason} {self.retired_at:%Y-%m-%d}"


class AccessSetting(ContractScopedModel):
    """アクセス設定 of a contract. A contract without a row has the defaults; the row
    is written the first time the administrator saves the screen."""

    device_auth_required = models.BooleanField(
        _("利用者のログインに端末認証キーを必要とする"), default=True
    )
    notify_on_register = models.BooleanField(
        _("端末が端末認証キーを登録したときに管理者へメールで通知する"), default=False
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("アクセス設定")
        verbose_name_plural = _("アクセス設定")
        constraints = [
            models.UniqueConstraint(fields=["contract"], name="access_setting_one_per_contract")
        ]

    def __str__(self):
        return f"{self.contract_id}"


class WrongEntryCounter(ContractScopedModel):
    """Consecutive wrong device authentication keys entered for one login ID at sign-in
    (devicekeys.wrong_entries, the one place that reads and writes it).

    Its row is locked (select_for_update) while an entered key is compared, so
    parallel guesses are counted one after the other and none gets a fourth try.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    wrong_entries = models.PositiveSmallIntegerField(_("誤入力回数"), default=0)

    def __str__(self):
        return f"{self.user_id}: {self.wrong_entries}"


class WrongEntryFromAddress(ContractScopedModel):
    """One wrong key of a contract entered from an IP address, for the per-address
    throttle of the key step (devicekeys.wrong_entries; whatever the login ID). Rows
    older than the period go."""

    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["contract", "ip", "at"]), models.Index(fields=["at"])]

    def __str__(self):
        return f"{self.ip} {self.at:%Y-%m-%d %H:%M}"
