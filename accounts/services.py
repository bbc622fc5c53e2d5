"""Business operations on contracts and user IDs: one function per operation.

Views, manage.py commands, the CSV importer and Django admin all call these.
Each owns its transaction and its checks, and raises ValidationError (keyed by
field) or a domain exception from accounts.exceptions.
"""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Contract, Role, User
from accounts.selectors import login_id_is_taken
from accounts.validators import validate_login_id

LOGIN_ID_TAKEN = _("このログインIDは既に使用されています。")


def _collect(errors: dict, field: str, check, *args, **kwargs) -> None:
    try:
        check(*args, **kwargs)
    except ValidationError as error:
        errors.setdefault(field, []).extend(error.error_list)


def _check_login_id(errors: dict, login_id: str, *, exclude_pk: int | None = None) -> None:
    _collect(errors, "login_id", validate_login_id, login_id)
    if "login_id" not in errors and login_id_is_taken(login_id, exclude_pk=exclude_pk):
        errors["login_id"] = [ValidationError(LOGIN_ID_TAKEN, code="login_id_taken")]


def _save_new(user: User) -> None:
    """Insert a new account; a login ID taken by a concurrent request since the
    check becomes the same field error instead of an IntegrityError."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        if login_id_is_taken(user.login_id, exclude_pk=user.pk):
            raise ValidationError({"login_id": LOGIN_ID_TAKEN}, code="login_id_taken") from error
        raise


@transaction.atomic
def contract_create(
    *, login_id: str, email: str, password: str, name: str = "", actor: User | None = None
) -> User:
    """Create a contract and its administrator (管理者); return the administrator."""
    login_id = login_id.strip()
    email = email.strip()
    candidate = User(login_id=login_id, email=email, role=Role.ADMINISTRATOR)
    errors: dict = {}
    _check_login_id(errors, login_id)
    _collect(errors, "email", validate_email, email)
    _collect(errors, "password", password_validation.validate_password, password, candidate)
    if errors:
        raise ValidationError(errors)

    contract = Contract.objects.create(name=name or login_id)
    candidate.contract = contract
    candidate.nickname = email
    candidate.set_password(password)
    _save_new(candidate)
    return candidate
