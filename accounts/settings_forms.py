"""Forms of 環境設定 (the administrator's own account) and of パスワードをお忘れの方."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import UserForm
from accounts.models import User
from accounts.validators import LOGIN_ID_MAX_LENGTH


class EmailChangeForm(forms.Form):
    """メールアドレス変更: the new address, twice."""

    email = User._meta.get_field("email").formfield(label=_("新しいメールアドレス"))
    email_confirm = User._meta.get_field("email").formfield(
        label=_("新しいメールアドレス（確認）"), help_text=_("確認のため再度入力してください。")
    )

    def clean(self):
        data = super().clean()
        email, confirm = data.get("email"), data.get("email_confirm")
        if email and confirm and email.strip().lower() != confirm.strip().lower():
            self.add_error("email_confirm", _("メールアドレスが一致しません。"))
        return data


class PasswordResetRequestForm(forms.Form):
    login_id = forms.CharField(label=_("ログインID"), max_length=LOGIN_ID_MAX_LENGTH)


class PasswordResetForm(forms.Form):
    """The new password of a reset link, twice, with the console's labels. The rules are
    the service's (accounts.services.password_reset_complete), as everywhere; the
    form's user is the account of the link (Django's PasswordResetConfirmView)."""

    new_password1 = UserForm.base_fields["password"]
    new_password2 = UserForm.base_fields["password_confirm"]

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["new_password1"].label = _("新しいパスワード")
        self.fields["new_password2"].label = _("新しいパスワード（確認）")

    def clean(self):
        data = super().clean()
        if data.get("new_password1", "") != data.get("new_password2", ""):
            self.add_error("new_password2", _("パスワードが一致しません。"))
        return data
