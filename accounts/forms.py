from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts import throttling
from accounts.models import PROFILE_FIELDS, User
from accounts.password_validation import MAX_LENGTH as PASSWORD_MAX_LENGTH
from accounts.selectors import USER_SEARCH_MAX_LENGTH
from accounts.validators import LOGIN_ID_MAX_LENGTH

ACCOUNT_THROTTLED = "account_throttled"  # the code of the ceiling's error


class SignInForm(AuthenticationForm):
    """ログインID / パスワード. One message for a wrong password and an unknown
    login ID, so the form does not tell which login IDs exist."""

    username = forms.CharField(
        label=_("ログインID"),
        max_length=LOGIN_ID_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    # No length of its own: a password check takes the account's password as it is
    # (one set before a rule changed, or by support), and cuts nothing.
    password = forms.CharField(
        label=_("パスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("ログインIDまたはパスワードが正しくありません。"),
        "inactive": _("ログインIDまたはパスワードが正しくありません。"),
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip()

    def clean(self):
        """The account-wide ceiling first: during its delay no password is read, and
        the attempt counts nowhere (accounts.throttling)."""
        login_id = self.cleaned_data.get("username")
        wait = throttling.refused_for(login_id, self.request) if login_id else None
        if wait:
            raise forms.ValidationError(throttling.refused_message(wait), code=ACCOUNT_THROTTLED)
        data = super().clean()
        throttling.reset(self.get_user())  # a right password ends the run of failures
        return data


class UserSearchForm(forms.Form):
    """利用者ID一覧's search (GET). A search longer than any field it is compared with
    is refused beside the box, and the list is shown unsearched."""

    q = forms.CharField(
        label=_("検索（ログインID・メールアドレス・表示氏名）"),
        required=False,
        max_length=USER_SEARCH_MAX_LENGTH,
        widget=forms.SearchInput(attrs={"id": "user-search"}),
    )

    def search(self) -> str:
        return self.cleaned_data["q"] if self.is_valid() else ""


def _new_password_input() -> forms.PasswordInput:
    # maxlength tells the browser the rule's limit; the message when a longer password
    # is sent anyway is the rule's own (password_validation.LengthValidator), named
    # once, not a second length check of the form's.
    return forms.PasswordInput(
        attrs={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH}
    )


def _model_field(name: str, **overrides):
    """A form field made from the User model field: its label, length and validators."""
    return User._meta.get_field(name).formfield(**overrides)


class UserForm(forms.Form):
    """利用者ID情報: the fields of the guide's create and change screens (A–H).

    The form checks shapes (required, lengths, formats, the two entries alike);
    the service then applies every rule again with the database at hand
    (uniqueness, the password rules, the limit), so a rule lives in one place.
    """

    login_id = _model_field(
        "login_id", help_text=_("半角英数字と記号（@ . _ -）が利用可能です。4～60文字以内")
    )
    password = forms.CharField(label=_("パスワード"), strip=False, widget=_new_password_input())
    password_confirm = forms.CharField(
        label=_("パスワード（確認）"),
        strip=False,
        help_text=_("確認のため再度入力してください。"),
        widget=_new_password_input(),
    )
    email = _model_field("email")
    email_confirm = _model_field(
        "email",
        label=_("メールアドレス（確認）"),
        help_text=_("確認のため再度入力してください。"),
    )
    display_name = _model_field("display_name", help_text=_("16文字以内"))
    title = _model_field("title", help_text=_("16文字以内"))
    department = _model_field("department", help_text=_("16文字以内"))
    phone = _model_field(
        "phone",
        help_text=_("半角数字と記号（+ -）が利用可能です。20文字以内"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    notify_user = forms.BooleanField(
        label=_("設定したメールアドレスに通知する"), required=False, initial=True
    )

    PASSWORD_FIELDS = ("password", "password_confirm")

    @property
    def password_rules(self) -> list[str]:
        """「パスワードルールについて」: the help text of every password validator."""
        return password_validation.password_validators_help_texts()

    def clean(self):
        data = super().clean()
        if data.get("password", "") != data.get("password_confirm", ""):
            self.add_error("password_confirm", _("パスワードが一致しません。"))
        email, confirm = data.get("email"), data.get("email_confirm")
        if email and confirm and email.strip() != confirm.strip():
            self.add_error("email_confirm", _("メールアドレスが一致しません。"))
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (*PROFILE_FIELDS, "password", "notify_user")
            if name in data
        }

    def without_passwords(self) -> dict:
        """The entered values to show again after 戻る (the passwords are never kept)."""
        return {k: v for k, v in self.cleaned_data.items() if k not in self.PASSWORD_FIELDS}


class UserChangeForm(UserForm):
    """利用者ID情報変更: the password fields start empty; empty means unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.PASSWORD_FIELDS:
            self.fields[name].required = False
        self.fields["password"].help_text = _(
            "パスワードを変更したい場合のみ入力してください（空欄のままの場合は変更されません）。"
        )

    @classmethod
    def initial_for(cls, user: User) -> dict:
        initial = {name: getattr(user, name) for name in PROFILE_FIELDS}
        initial["email_confirm"] = user.email
        return initial
