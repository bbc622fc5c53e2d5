from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.scoping import ContractScopedQuerySet
from accounts.validators import LOGIN_ID_MAX_LENGTH, validate_login_id, validate_phone

# What the administrator sets on a user ID (the guide's fields D–G are also the
# user's own to change later).
PROFILE_FIELDS = ("login_id", "email", "display_name", "title", "department", "phone")


class ContractQuerySet(models.QuerySet):
    def lock(self, contract: "Contract") -> "Contract":
        """Serialise the writers of one contract: its limits (999 user IDs, 999 device
        keys) are counted under this row lock. On SQLite the IMMEDIATE write
        transaction already holds the database lock. Call inside transaction.atomic()."""
        return self.select_for_update().get(pk=contract.pk)


class Contract(models.Model):
    """契約: the tenant. One administrator and at most USER_LIMIT user IDs."""

    USER_LIMIT = 999

    name = models.CharField(_("契約名"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("契約")
        verbose_name_plural = _("契約")

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
    is_active = models.BooleanField(_("有効"), default=True)
    is_staff = models.BooleanField(_("サポート画面の利用"), default=False)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "login_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")
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

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR and self.contract_id is not None


def user_field_label(name: str) -> str:
    """A user field's label in the active language (for mails and the audit log);
    a name that is not a field is returned as it was given."""
    try:
        return str(User._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
