from django import forms
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticToken

# The longest code: a recovery code (an authenticator app's is 6 digits).
CODE_MAX_LENGTH = StaticToken._meta.get_field("token").max_length


def _code_field(label, help_text=""):
    return forms.CharField(
        label=label,
        max_length=CODE_MAX_LENGTH,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class CodeForm(forms.Form):
    """The second step: a code of the authenticator app, or a recovery code."""

    code = _code_field(
        _("確認コード"),
        _("認証アプリに表示される6桁の数字、またはリカバリーコードを入力してください。"),
    )


class EnrolForm(forms.Form):
    """The first code of an authenticator app being enrolled."""

    code = _code_field(_("確認コード"), _("認証アプリに表示される6桁の数字を入力してください。"))


class PasskeyNameForm(forms.Form):
    name = forms.CharField(label=_("パスキーの名前"), max_length=64)
