from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.validators import LOGIN_ID_MAX_LENGTH, validate_login_id, validate_phone
from core.actors import System
from core.limits import Limit
from core.scoping import ContractScopedModel, ContractScopedQuerySet

# What the administrator sets on a user ID (the guide's fields D–G are also the
# user's own to change later).
PROFILE_FIELDS = ("login_id", "email", "display_name", "title", "department", "phone")


class ContractQuerySet(models.QuerySet):
    def lock(self, contract: "Contract") -> "Contract":
        """Serialise the writers of one contract: its limits (999 user IDs, 999 device
        keys) are counted under this row lock. On SQLite the IMMEDIATE write
        transaction already holds the database lock. Call inside transaction.atomic().

        FOR NO KEY UPDATE, not FOR UPDATE: it excludes the other writers all the same,
        but not the key-share lock PostgreSQL takes on the contract for every row
        inserted with its foreign key (an audit entry, a mail). With FOR UPDATE, a
        service holding a key's row lock and writing its audit entry (停止) deadlocked
        with one holding this lock and waiting for the key (再発行)."""
        return self.select_for_update(no_key=True).get(pk=contract.pk)


# 利用者IDは1契約につき999個まで (the guide): counted by user_create and the CSV import
# under the contract's lock, shown by the screens, all in these words.
USERS_PER_CONTRACT = Limit(
    999,
    rule_text=_("利用者IDは1契約につき%(limit)d個まで作成できます。"),
    remedy=_("新しく作成するには、不要な利用者IDを削除してください。"),
)


class Contract(models.Model):
    """契約: the tenant. One administrator and at most USER_LIMIT user IDs."""

    USER_LIMIT = USERS_PER_CONTRACT.maximum

    name = models.CharField(_("契約名"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "契約")
        verbose_name_plural = pgettext_lazy("model plural", "契約")

    def __str__(self):
        return self.name or f"#{self.pk}"


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("管理者")
    USER = "user", _("利用者")
    SUPPORT = "support", _("サポート担当")


class UserQuerySet(ContractScopedQuerySet):
    def users(self):
        """利用者 only: the contract's staff, without its administrator."""
        return self.filter(role=Role.USER)

    def with_login_id(self, login_id: str):
        """Case-insensitive match, served by the Lower(login_id) unique index."""
        return self.alias(login_id_lower=Lower("login_id")).filter(login_id_lower=login_id.lower())


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.with_login_id(username).get()

    def create_superuser(self, login_id, email, password=None, **extra):
        """Support staff (Django staff, no contract), for `manage.py createsuperuser`."""
        user = self.model(
            login_id=login_id,
            email=self.normalize_email(email),
            role=Role.SUPPORT,
            is_staff=True,
            is_superuser=True,
            **extra,
        )
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who signs in: a contract's administrator, its user IDs, support staff.

    The login ID is unique across the whole service, case-insensitively (the
    Lower() constraint); administrators and user IDs belong to exactly one
    contract, support staff to none (the role/contract check constraint).
    """

    login_id = models.CharField(
        _("ログインID"),
        max_length=LOGIN_ID_MAX_LENGTH,
        unique=True,
        validators=[validate_login_id],
        error_messages={"unique": _("このログインIDは既に使用されています。")},
    )
    role = models.CharField(_("種別"), max_length=16, choices=Role.choices, default=Role.USER)
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("契約"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="members",
    )
    email = models.EmailField(_("メールアドレス"))
    nickname = models.CharField(_("ニックネーム"), max_length=254, blank=True)
    display_name = models.CharField(
        _("スケジューラー・掲示板用表示氏名"), max_length=16, blank=True
    )
    title = models.CharField(_("役職"), max_length=16, blank=True)
    department = models.CharField(_("部署"), max_length=16, blank=True)
    phone = models.CharField(
        _("連絡先電話番号"), max_length=20, blank=True, validators=[validate_phone]
    )
    language = models.CharField(_("言語"), max_length=8, default="ja")
    # How many mail address changes were confirmed by link: a link names the number it
    # was sent at, so that each works once, whatever the addresses (A→B→A).
    email_changes = models.PositiveIntegerField(
        _("メールアドレス変更の回数"), default=0, editable=False
    )
    is_active = models.BooleanField(_("有効"), default=True)
    is_staff = models.BooleanField(_("サポート画面の利用"), default=False)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    # Counts the changes of the account's second factors that end its sessions which
    # have not passed the second step (an enrolment, support's reset): twostep/sessions.py.
    # On the row every request loads anyway, so that the check costs no query.
    factors_version = models.PositiveIntegerField(
        _("二段階認証の設定の版"), default=0, editable=False
    )
    # 全端末からサインアウト counts up: every session of the account, bound to the hash
    # below, ends at once (accounts.services.user_sign_out_everywhere).
    session_generation = models.PositiveIntegerField(
        _("全端末からサインアウトの回数"), default=0, editable=False
    )

    objects = UserManager()

    USERNAME_FIELD = "login_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = pgettext_lazy("model", "利用者")
        verbose_name_plural = pgettext_lazy("model plural", "利用者")
        constraints = [
            models.UniqueConstraint(Lower("login_id"), name="user_login_id_ci_unique"),
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(role="administrator"),
                name="one_administrator_per_contract",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(role="support", contract__isnull=True)
                    | models.Q(role__in=["administrator", "user"], contract__isnull=False)
                ),
                name="user_role_matches_contract",
            ),
        ]
        indexes = [models.Index(fields=["contract", "role", "login_id"])]

    def __str__(self):
        return self.login_id

    def _get_session_auth_hash(self, secret=None):
        """The hash every session of the account is checked against (Django's, from the
        password hash), with the session generation mixed in once 全端末からサインアウト
        has counted it up: a new password or a new generation ends every session. At
        generation 0 it is Django's own, so no session ends when this field arrives."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR and self.contract_id is not None


class SignInFailures(models.Model):
    """Failed sign-ins of one account from any address, for the account-wide ceiling
    (accounts.throttling, the one module that reads and writes it): counted until a
    quiet window or a sign-in ends the run."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    failures = models.PositiveIntegerField(_("ログイン失敗回数"), default=0)
    last_failure_at = models.DateTimeField(_("最後の失敗日時"), null=True, blank=True)
    refused_until = models.DateTimeField(_("制限終了日時"), null=True, blank=True)
    notified_at = models.DateTimeField(_("通知日時"), null=True, blank=True)
    # The failures of the run made from each known device (accounts.known_device), by
    # its id: such a browser is held back only by its own.
    known_device_failures = models.JSONField(_("既知の端末からの失敗回数"), default=dict)

    class Meta:
        verbose_name = _("ログイン失敗")
        verbose_name_plural = _("ログイン失敗")

    def __str__(self):
        return f"{self.user_id}: {self.failures}"


class PasswordResetRequest(models.Model):
    """One パスワードをお忘れの方 request, for its throttle (accounts.throttling): per
    login ID and per address. Rows older than an hour go."""

    login_id = models.CharField(max_length=254)  # as typed, lower case
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["login_id", "at"]), models.Index(fields=["ip", "at"])]

    def __str__(self):
        return f"{self.login_id} {self.at:%Y-%m-%d %H:%M}"


# Who changes data (every service's required `actor`): a signed-in account, or the
# console itself by name (core.actors).
Actor = User | System


def user_field_label(name: str) -> str:
    """A user field's label in the active language (for mails and the audit log);
    a name that is not a field is returned as it was given."""
    try:
        return str(User._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


# --- CSVインポート ---------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("待機中")
    RUNNING = "running", _("処理中")
    SUCCEEDED = "succeeded", _("完了")
    REJECTED = "rejected", _("エラーあり")
    FAILED = "failed", _("中断")


ACTIVE_IMPORT_STATUSES = ("queued", "running")


class ImportJobQuerySet(ContractScopedQuerySet):
    def active(self):
        """Jobs not finished yet: at most one per contract (a partial unique constraint)."""
        return self.filter(status__in=ACTIVE_IMPORT_STATUSES)

    def abandoned(self, now):
        """Unfinished jobs nobody works on: running with no heartbeat for RUNNING_LEASE
        (the worker died), or queued and not taken by any worker for QUEUED_LEASE."""
        return self.filter(
            models.Q(status=ImportStatus.RUNNING, heartbeat_at__lte=now - ImportJob.RUNNING_LEASE)
            | models.Q(status=ImportStatus.QUEUED, created_at__lte=now - ImportJob.QUEUED_LEASE)
        )


class ImportJob(ContractScopedModel):
    """One CSVインポート started on the console: the uploaded file until the job
    ends, the progress while a worker runs it, then the result (the number of user
    IDs created, or the report of the lines to fix).

    No password outlives the job: the file is cleared when the job ends (a check
    constraint holds it), and the report names lines, login IDs and columns only.
    """

    # The worker running a job refreshes heartbeat_at every 20 seconds whatever it is
    # doing (csvimport.tasks.HEARTBEAT_INTERVAL); a job silent for this long belongs
    # to a worker that died, and nothing of it was committed.
    RUNNING_LEASE = timedelta(minutes=2)
    # The one task worker runs imports one after another (and the mail between
    # them): a queued job may wait for others; after this long it is given up.
    QUEUED_LEASE = timedelta(minutes=30)

    actor = models.ForeignKey(
        User,
        verbose_name=_("操作者"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("ファイル名"), max_length=255, blank=True)
    content = models.BinaryField(_("ファイルの内容"), null=True, blank=True, editable=False)
    encoding = models.CharField(_("文字コード"), max_length=16, default="auto")
    detected_encoding = models.CharField(_("判別した文字コード"), max_length=16, blank=True)
    notify_users = models.BooleanField(_("各利用者IDのメールアドレスに通知する"), default=False)
    dry_run = models.BooleanField(_("確認のみ"), default=False)
    language = models.CharField(_("言語"), max_length=8, default="ja")
    status = models.CharField(
        _("状態"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    lines_total = models.PositiveIntegerField(_("行数"), default=0)
    lines_checked = models.PositiveIntegerField(_("チェックした行"), default=0)
    users_prepared = models.PositiveIntegerField(_("作成の準備ができた利用者ID"), default=0)
    users_created = models.PositiveIntegerField(_("作成した利用者ID"), default=0)
    # [{"line": int | None, "login_id": str, "column": str, "message": str}, ...]
    problems = models.JSONField(_("エラーの一覧"), default=list, blank=True)
    # [{"line": int, "login_id": str}, ...]: what the result page offers a key for
    created_lines = models.JSONField(_("作成した行"), default=list, blank=True)
    created_at = models.DateTimeField(_("受付日時"), default=timezone.now)
    started_at = models.DateTimeField(_("開始日時"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最終応答日時"), null=True, blank=True)
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "CSVインポート")
        verbose_name_plural = pgettext_lazy("model plural", "CSVインポート")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(status__in=ACTIVE_IMPORT_STATUSES),
                name="one_active_import_per_contract",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values), name="import_job_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=ACTIVE_IMPORT_STATUSES) | models.Q(content__isnull=True)
                ),
                name="import_job_file_cleared_when_finished",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.file_name} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_IMPORT_STATUSES
