"""Forms of a user ID's own pages (利用者のホーム): the profile fields the guide lets
the user change, and the password change. Field rules come from the model and
from the administrator's form, so a rule is written once."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import throttling
from accounts.exceptions import AccountThrottled
from accounts.forms import ACCOUNT_THROTTLED, UserForm
from accounts.models import User
from accounts.services import SELF_SERVICE_FIELDS

CURRENT_PASSWORD_WRONG = _("現在のパスワードが正しくありません。")


class ProfileForm(forms.Form):
    """ニックネーム, スケジューラー・掲示板用表示氏名, 役職, 部署, 連絡先電話番号."""

    nickname = User._meta.get_field("nickname").formfield(
        required=False,
        help_text=_("空欄にすると、メールアドレスがニックネームになります。"),
    )
    display_name = UserForm.base_fields["display_name"]
    title = UserForm.base_fields["title"]
    department = UserForm.base_fields["department"]
    phone = UserForm.base_fields["phone"]

    @classmethod
    def initial_for(cls, user: User) -> dict:
        return {name: getattr(user, name) for name in SELF_SERVICE_FIELDS}


class CurrentPasswordForm(forms.Form):
    """The account's current password, checked as a sign-in is
    (accounts.throttling.verify_password): a wrong one is a failed sign-in of the
    account, throttled per address and account alike. Also 本人確認 (twostep)."""

    current_password = forms.CharField(
        label=_("現在のパスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        try:
            right = throttling.verify_password(
                self.request, user=self.request.user, password=password
            )
        except AccountThrottled as refused:
            raise forms.ValidationError(
                throttling.refused_message(refused.wait), code=ACCOUNT_THROTTLED
            ) from None
        if not right:
            raise forms.ValidationError(CURRENT_PASSWORD_WRONG, code="wrong_password")
        return password


class PasswordChangeForm(CurrentPasswordForm):
    """パスワード変更: the current password, and the new one twice."""

    password = UserForm.base_fields["password"]
    password_confirm = UserForm.base_fields["password_confirm"]
    password_rules = UserForm.password_rules

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["password"].label = _("新しいパスワード")
        self.fields["password_confirm"].label = _("新しいパスワード（確認）")

    def clean(self):
        data = super().clean()
        if data.get("password", "") != data.get("password_confirm", ""):
            self.add_error("password_confirm", _("パスワードが一致しません。"))
        return data
