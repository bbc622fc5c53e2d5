from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    """ログインID / パスワード. One message for a wrong password and an unknown
    login ID, so the form does not tell which login IDs exist."""

    username = forms.CharField(
        label=_("ログインID"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
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
