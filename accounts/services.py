"""Business operations on contracts and user IDs: one function per operation.

Views, manage.py commands, the CSV importer and Django admin all call these.
Each owns its transaction, its checks, the limit and the notification, and
raises ValidationError (keyed by the field names of the console's forms:
login_id, password, email, display_name, title, department, phone), LimitReached
(core.exceptions), or UserNotFound when the user ID it is to change is not (or no
longer) one of the contract's. `actor` is required: the signed-in account, or a
core.actors.System naming the command or process.
"""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from accounts import throttling
from accounts.exceptions import UserNotFound
from accounts.models import PROFILE_FIELDS, USERS_PER_CONTRACT, Actor, Contract, Role, User
from accounts.password_validation import validate_password
from accounts.selectors import login_id_is_taken, user_count
from api.registrations import app_registrations_apply
from api.rules import Event
from audit import services as audit
from audit.actions import Action
from core.actors import Anonymous
from core.siteurl import site_url
from devicekeys.services import device_key_delete_all_for_user
from notifications import kinds
from notifications.services import notify
from ssf import services as ssf

LOGIN_ID_TAKEN = _("このログインIDは既に使用されています。")


def _normalise(fields: dict) -> dict:
    """Trim surrounding white space (full-width included) from every text field."""
    return {name: (value or "").strip() for name, value in fields.items()}


def _profile(*values: str) -> dict[str, str]:
    """The values of PROFILE_FIELDS, in that order, trimmed, by field name."""
    return _normalise(dict(zip(PROFILE_FIELDS, values, strict=True)))


def user_candidate(contract: Contract, **fields: str) -> User:
    """The unsaved user ID (利用者) that user_create makes of these fields: trimmed,
    the nickname starting as the mail address. The CSV import builds its users here."""
    fields = _normalise(fields)
    return User(contract=contract, role=Role.USER, nickname=fields["email"], **fields)


def _length_errors(user: User) -> dict[str, list[ValidationError]]:
    """The fields whose value is longer than the field holds, each with its length
    error only (the login ID's own length rule, else Django's): no other rule reads
    such a value, so its cost does not grow with what was sent."""
    errors = {}
    for field in user._meta.concrete_fields:
        value = getattr(user, field.attname)
        if field.max_length is None or not isinstance(value, str):
            continue
        if len(value) <= field.max_length:
            continue
        for validator in field.validators:  # the field's own rules, then max_length
            try:
                validator(value)
            except ValidationError as error:
                if error.code.endswith("length"):
                    errors[field.name] = [error]
                    break
    return errors


def user_field_errors(user: User, *, password: str | None) -> dict[str, list[ValidationError]]:
    """The rules of a user ID's fields that need no database, by field name: formats
    and lengths from the model fields' validators, and (when a password is given)
    every validator of AUTH_PASSWORD_VALIDATORS. Lengths come first: a value too long
    gets only that error. The CSV import checks each line here and the login IDs of
    all lines at once against the database."""
    errors = _length_errors(user)
    try:
        user.full_clean(
            exclude=["password", "contract", "last_login", *errors],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        errors.update(error.error_dict)
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            errors["password"] = error.error_list
    return errors


def _validate(user: User, *, password: str | None) -> None:
    """Every rule of a user ID's fields, collected so each field shows its own errors:
    user_field_errors, and the login ID free across the whole service."""
    errors = user_field_errors(user, password=password)
    if "login_id" not in errors and login_id_is_taken(user.login_id, exclude_pk=user.pk):
        errors["login_id"] = [ValidationError(LOGIN_ID_TAKEN, code="login_id_taken")]
    if errors:
        raise ValidationError(errors)


def _apply(user: User, fields: dict, names) -> dict[str, list]:
    """Set on `user` each of `names` whose value in `fields` differs from the user's;
    return the changes as {name: [before, after]} (an audit entry's), in `names` order."""
    changes = {}
    for name in names:
        if getattr(user, name) != fields[name]:
            changes[name] = [getattr(user, name), fields[name]]
            setattr(user, name, fields[name])
    return changes


def _locked_user(contract: Contract, user: User) -> User:
    """The contract's user ID `user` read again and locked to the end of the
    transaction, or UserNotFound: deleted meanwhile, or not this contract's.
    FOR NO KEY UPDATE, like the contract's lock, so that rows pointing at the user
    (a device key, a counter) can still be inserted meanwhile."""
    users = User.objects.for_contract(contract).users().select_for_update(no_key=True)
    found = users.filter(pk=user.pk).first()
    if found is None:
        raise UserNotFound
    return found


def _password_changed(user: User, event: Event, actor: Actor) -> None:
    """A new password: the apps signed in with the password alone (azu_) are signed out
    (api.rules); those bound to a key stay, as registered browsers do. The storage
    service hears of it (ssf: CAEP credential-change)."""
    app_registrations_apply(contract=user.contract, event=event, actor=actor, user=user)
    ssf.credential_changed(user=user, event=event, actor=actor)


def _save(user: User) -> None:
    """Save; a login ID taken by a concurrent request since the check becomes the
    same field error instead of an IntegrityError (a 500)."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        if login_id_is_taken(user.login_id, exclude_pk=user.pk):
            raise ValidationError({"login_id": LOGIN_ID_TAKEN}, code="login_id_taken") from error
        raise


@transaction.atomic
def contract_create(
    *, login_id: str, email: str, password: str, actor: Actor, name: str = ""
) -> User:
    """Create a contract and its administrator (管理者); return the administrator."""
    fields = _normalise({"login_id": login_id, "email": email})
    candidate = User(role=Role.ADMINISTRATOR, nickname=fields["email"], **fields)
    _validate(candidate, password=password)
    candidate.contract = Contract.objects.create(name=name or candidate.login_id)
    candidate.set_password(password)
    _save(candidate)
    audit.record(
        Action.CONTRACT_CREATED,
        contract=candidate.contract,
        actor=actor,
        target=candidate.login_id,
        changes={"email": ["", candidate.email]},
    )
    return candidate


@transaction.atomic
def user_create(
    *,
    contract: Contract,
    actor: Actor,
    login_id: str,
    password: str,
    email: str,
    display_name: str = "",
    title: str = "",
    department: str = "",
    phone: str = "",
    notify_user: bool = True,
    dry_run: bool = False,
) -> User:
    """利用者ID新規作成. With dry_run, check everything (rules, uniqueness, limit)
    and return the unsaved user without creating it.

    The nickname starts as the mail address (the user may change it later). With
    notify_user, the "user ID created" mail goes to that address after commit.
    """
    contract = Contract.objects.lock(contract)
    USERS_PER_CONTRACT.check(user_count(contract))
    fields = _profile(login_id, email, display_name, title, department, phone)
    user = user_candidate(contract, **fields)
    _validate(user, password=password)
    if dry_run:
        return user
    user.set_password(password)
    _save(user)
    audit.record(
        Action.USER_CREATED,
        contract=contract,
        actor=actor,
        target=user.login_id,
        changes={name: ["", fields[name]] for name in PROFILE_FIELDS if fields[name]},
    )
    if notify_user:
        notify("user_created", user=user)
    return user


@transaction.atomic
def user_change(
    *,
    contract: Contract,
    actor: Actor,
    user: User,
    login_id: str,
    email: str,
    display_name: str = "",
    title: str = "",
    department: str = "",
    phone: str = "",
    password: str = "",
    notify_user: bool = False,
) -> list[str]:
    """利用者ID情報変更. A blank password keeps the current one; a new password
    signs the user out of every session (Django checks each session against the
    password hash). Returns the names of the fields that changed."""
    Contract.objects.lock(contract)
    user = _locked_user(contract, user)
    fields = _profile(login_id, email, display_name, title, department, phone)
    changes = _apply(user, fields, PROFILE_FIELDS)
    _validate(user, password=password or None)
    if password:
        user.set_password(password)
        changes["password"] = ["", user.password]
    if not changes:
        return []
    _save(user)
    if password:
        _password_changed(user, Event.PASSWORD_CHANGED, actor)
    audit.record(
        Action.USER_CHANGED, contract=contract, actor=actor, target=user.login_id, changes=changes
    )
    changed = list(changes)
    if notify_user:
        notify(
            "user_changed",
            user=user,
            changed_fields=[name for name in changed if name != "password"],
            password_changed="password" in changed,
        )
    return changed


# What a user ID changes on their own (the guide: fields D–G, and the nickname).
SELF_SERVICE_FIELDS = ("nickname", "display_name", "title", "department", "phone")


@transaction.atomic
def user_profile_change(
    *,
    contract: Contract,
    actor: Actor,
    user: User,
    nickname: str,
    display_name: str = "",
    title: str = "",
    department: str = "",
    phone: str = "",
) -> list[str]:
    """The user ID's own change of ニックネーム, 表示氏名, 役職, 部署 and 連絡先電話番号
    (their home page), under the rules of the administrator's screens. A blank
    nickname is the mail address again. Returns the names of the fields that changed."""
    user = _locked_user(contract, user)
    fields = _normalise(
        {
            "nickname": nickname,
            "display_name": display_name,
            "title": title,
            "department": department,
            "phone": phone,
        }
    )
    fields["nickname"] = fields["nickname"] or user.email
    changes = _apply(user, fields, SELF_SERVICE_FIELDS)
    if not changes:
        return []
    _validate(user, password=None)
    _save(user)
    audit.record(
        Action.PROFILE_CHANGED,
        contract=contract,
        actor=actor,
        target=user.login_id,
        changes=changes,
    )
    return list(changes)


@transaction.atomic
def user_password_change(*, contract: Contract, actor: Actor, user: User, password: str) -> User:
    """The user ID's own パスワード変更: the new password must pass every password
    validator. The caller has checked the current password the way a sign-in is
    checked (accounts.throttling.verify_password: throttled, counted, recorded), as
    the password change form does. Every session of the user ends (Django checks each
    against the password hash); the caller keeps its own with
    update_session_auth_hash(user) on the user returned. Registered devices stay
    registered; apps signed in with the password alone are signed out."""
    user = _locked_user(contract, user)
    _validate(user, password=password)
    user.set_password(password)
    _save(user)
    _password_changed(user, Event.PASSWORD_CHANGED, actor)
    audit.record(
        Action.PASSWORD_CHANGED,
        contract=contract,
        actor=actor,
        target=user.login_id,
        changes={"password": ["", ""]},
    )
    return user


@transaction.atomic
def user_delete(*, contract: Contract, actor: Actor, user: User) -> None:
    """利用者ID情報削除. Always mails the user; removes their device authentication
    keys; their sessions end because the account no longer exists."""
    Contract.objects.lock(contract)
    user = _locked_user(contract, user)
    notify("user_deleted", user=user)
    app_registrations_apply(contract=contract, event=Event.ACCOUNT_DELETED, actor=actor, user=user)
    device_key_delete_all_for_user(contract=contract, user=user, actor=actor)
    audit.record(Action.USER_DELETED, contract=contract, actor=actor, target=user.login_id)
    user.delete()


@transaction.atomic
def user_sign_out_everywhere(*, contract: Contract, actor: Actor, user: User) -> int:
    """全端末からサインアウト of a user ID: every session of theirs ends at once (the
    session generation counts up, and Django checks each session against a hash that
    mixes it in), and every app sign-in ends (api.rules). Registered devices stay
    registered: the next sign-in asks for the password, not for a new key. Recorded
    in ログ管理 and mailed to the user, always. Returns how many app sign-ins ended."""
    user = _locked_user(contract, user)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    ended = app_registrations_apply(
        contract=contract, event=Event.SIGNED_OUT_EVERYWHERE, actor=actor, user=user
    )
    audit.record(Action.SIGNED_OUT_EVERYWHERE, contract=contract, actor=actor, target=user.login_id)
    notify(kinds.SIGNED_OUT_EVERYWHERE, user=user, app_count=len(ended))
    return len(ended)


@transaction.atomic
def sign_in_throttle_lift(*, login_id: str, actor: Actor) -> int:
    """Lift the sign-in throttle of a login ID (support staff, when a customer calls):
    its failed attempts are forgotten. Returns how many attempt records were removed."""
    login_id = login_id.strip().lower()
    removed = axes_reset(username=login_id)
    user = User.objects.with_login_id(login_id).first()
    audit.record(
        Action.SIGN_IN_THROTTLE_LIFTED,
        contract=user.contract if user else None,
        actor=actor,
        target=login_id,
    )
    return removed


# --- 環境設定 and password reset (administrators; the reset for user IDs too) ---------


def _account_password_set(user: User, password: str, actor: Actor, action: Action, *, reset):
    """What a change and a reset share: every rule, the new hash (every session of the
    account ends: Django checks each against the hash), ログ管理, the mail. Only the
    password is judged: the account's other fields are as they were."""
    errors = user_field_errors(user, password=password)
    if "password" in errors:
        raise ValidationError({"password": errors["password"]})
    user.set_password(password)
    _save(user)
    _password_changed(user, Event.PASSWORD_RESET if reset else Event.PASSWORD_CHANGED, actor)
    audit.record(
        action,
        contract=user.contract,
        actor=actor,
        target=user.login_id,
        changes={"password": ["", ""]},
    )
    notify(kinds.PASSWORD_CHANGED, user=user, reset=reset)
    return user


@transaction.atomic
def administrator_password_change(
    *, contract: Contract, actor: Actor, user: User, password: str
) -> User:
    """環境設定 → パスワード変更 of the administrator. The caller has checked the current
    password as a sign-in is checked (accounts.throttling.verify_password). Every other
    session ends (the caller keeps its own with update_session_auth_hash); the
    administrator is mailed."""
    administrator = (
        User.objects.for_contract(contract)
        .filter(role=Role.ADMINISTRATOR, pk=user.pk)
        .select_for_update(no_key=True)
        .first()
    )
    if administrator is None:
        raise UserNotFound
    return _account_password_set(
        administrator, password, actor, Action.ADMIN_PASSWORD_CHANGED, reset=False
    )


RESETTABLE_ROLES = (Role.ADMINISTRATOR, Role.USER)


def _password_reset_link(user: User) -> str:
    """The link of a reset mail: Django's token (valid PASSWORD_RESET_TIMEOUT, until the
    password changes), on SITE_URL."""
    path = reverse(
        "accounts:password-reset-confirm",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    return site_url(path)


@transaction.atomic
def password_reset_request(*, login_id: str, ip: str | None) -> None:
    """パスワードをお忘れの方: a mail with a link to the account of this login ID, an
    administrator or a user ID, when it exists, is active and the throttle allows
    (accounts.throttling.reset_allowed). The caller answers alike in every case:
    nothing here tells whether the login ID exists."""
    allowed = throttling.reset_allowed(login_id, ip)
    user = User.objects.with_login_id(login_id.strip()).select_related("contract").first()
    if user is None or not user.is_active or user.role not in RESETTABLE_ROLES:
        return
    audit.record(
        Action.PASSWORD_RESET_REQUESTED,
        contract=user.contract,
        actor=Anonymous(user.login_id),
        target=user.login_id,
        changes={"sent": ["", allowed]},
    )
    if allowed:
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        notify(kinds.PASSWORD_RESET, user=user, link=_password_reset_link(user), minutes=minutes)


@transaction.atomic
def password_reset_complete(*, user: User, password: str) -> User:
    """The new password of a reset link (its token checked by the caller, Django's
    PasswordResetTokenGenerator: it stops working once the password changes). Every
    session ends; a user ID still registers an unregistered device with a key; the
    run of failed sign-ins of the account ends."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    _account_password_set(
        user, password, Anonymous(user.login_id), Action.PASSWORD_RESET, reset=True
    )
    throttling.reset(user)
    axes_reset(username=user.login_id.lower())
    return user


EMAIL_CHANGE_SALT = "accounts.email-change"
EMAIL_SAME = _("現在と同じメールアドレスです。")
EMAIL_CHANGE_LINK_INVALID = _(
    "このリンクは無効です。有効期限（24時間）が過ぎたか、すでに使われました。"
    "もう一度メールアドレスの変更をお申し込みください。"
)


@transaction.atomic
def email_change_request(*, contract: Contract, actor: Actor, user: User, email: str) -> str:
    """環境設定 → メールアドレス変更: a confirmation link (valid 24 hours, single use) to
    the new address, a notice to the current one. The address changes only when the
    link is followed (email_change_confirm). Returns the link's token."""
    administrator = User.objects.for_contract(contract).get(role=Role.ADMINISTRATOR, pk=user.pk)
    email = email.strip()
    errors = _length_errors(User(email=email))  # the length first, as for any field
    if not errors:
        try:
            User._meta.get_field("email").clean(email, None)
        except ValidationError as error:
            errors["email"] = error.error_list
    if not errors and email.lower() == administrator.email.lower():
        errors["email"] = [ValidationError(EMAIL_SAME, code="email_same")]
    if errors:
        raise ValidationError(errors)
    # The link names the account's count of confirmed changes: following any link of
    # the account moves it on, so every link sent before (this one included) is void.
    token = signing.dumps(
        {
            "user": administrator.pk,
            "from": administrator.email,
            "to": email,
            "changes": administrator.email_changes,
        },
        salt=EMAIL_CHANGE_SALT,
    )
    hours = int(settings.EMAIL_CHANGE_TIMEOUT.total_seconds() // 3600)
    notify(
        kinds.EMAIL_CHANGE_CONFIRM,
        user=administrator,
        recipient=email,
        link=site_url(reverse("accounts:settings-email-confirm", args=[token])),
        hours=hours,
    )
    notify(kinds.EMAIL_CHANGE_NOTICE, user=administrator, new_email=email)
    audit.record(
        Action.EMAIL_CHANGE_REQUESTED,
        contract=contract,
        actor=actor,
        target=administrator.login_id,
        changes={"email": [administrator.email, email]},
    )
    return token


def email_change_of(token: str, *, user: User) -> str | None:
    """The new address a confirmation link of `user` asks for, or None when the link is
    older than 24 hours, was used, or another link of the account was followed since it
    was sent (a link works once, whatever the addresses went through), or is no link
    at all. UserNotFound for another account's link: to this account it does not
    exist."""
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT)
    except signing.BadSignature:
        return None
    if data.get("user") != user.pk:
        raise UserNotFound
    try:
        signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT.total_seconds()
        )
    except signing.SignatureExpired:
        return None
    if data.get("changes") != user.email_changes or data.get("from") != user.email:
        return None
    return data.get("to")


@transaction.atomic
def email_change_confirm(*, contract: Contract, actor: Actor, user: User, token: str) -> str:
    """The confirmation link was followed: the address changes (a nickname that was the
    old address follows it), and every link of the account sent so far, this one
    included, stops working. Returns the new address; ValidationError for a link that
    is no longer valid."""
    administrator = (
        User.objects.for_contract(contract)
        .filter(role=Role.ADMINISTRATOR, pk=user.pk)
        .select_for_update(no_key=True)
        .first()
    )
    email = email_change_of(token, user=administrator) if administrator else None
    if email is None:
        raise ValidationError(EMAIL_CHANGE_LINK_INVALID, code="email_change_link_invalid")
    before = administrator.email
    if administrator.nickname == before:
        administrator.nickname = email
    administrator.email = email
    administrator.email_changes += 1
    _save(administrator)
    audit.record(
        Action.EMAIL_CHANGED,
        contract=contract,
        actor=actor,
        target=administrator.login_id,
        changes={"email": [before, email]},
    )
    return email


def sessions_sweep() -> int:
    """Delete the sessions past their expiry date (a step of `manage.py sweep`, Django's
    clearsessions with a count): the table keeps no browser's sign-in longer than it
    lasts. Returns how many went."""
    deleted, _by_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
