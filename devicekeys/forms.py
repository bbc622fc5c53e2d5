from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import LOGIN_ID_MAX_LENGTH
from devicekeys import rules
from devicekeys.models import AccessSetting
from devicekeys.selectors import DEFAULT_SORT, SORTS, key_user_list
from devicekeys.services import UNKNOWN_USER


def _device_name_input() -> forms.TextInput:
    # maxlength only as a hint to the browser: the message comes from the rule.
    return forms.TextInput(attrs={"maxlength": rules.DEVICE_NAME_MAX_LENGTH, "autocomplete": "off"})


class KeyFilterForm(forms.Form):
    """The list's filters (GET). A value that does not validate is ignored."""

    login_id = forms.CharField(
        label=_("ログインID（部分一致）"),
        required=False,
        max_length=LOGIN_ID_MAX_LENGTH,
        widget=forms.SearchInput,
    )
    status = forms.ChoiceField(
        label=_("ステータス"),
        required=False,
        choices=[("", _("すべて")), *rules.Status.choices],
    )
    sort = forms.ChoiceField(required=False, choices=[(name, name) for name in SORTS])

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "login_id": data.get("login_id", ""),
            "status": data.get("status", ""),
            "sort": data.get("sort") or DEFAULT_SORT,
        }


# What the issue form says of a blank device name, naming the default it would get.
DEFAULT_NAME_HELP = _(
    "端末を見分けられる名前を入力してください（例: 経理部のパソコン）。省略すると「%(name)s」とし、"
    "端末で登録されたときにそのブラウザやアプリの名前に変わります。"
    "あとから一覧の「編集」で変更できます。"
)


class KeyUserSearchForm(forms.Form):
    """The issue page's GET parameters: the picker's search, and the login ID chosen
    by a link from 利用者ID一覧, its 完了 page or a CSV import's result. Too long a value
    is a field message, and the page shows the list unfiltered."""

    q = forms.CharField(
        label=_("ログインID・メールアドレスで検索"),
        required=False,
        max_length=User._meta.get_field("email").max_length,
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )
    login_id = forms.CharField(required=False, max_length=LOGIN_ID_MAX_LENGTH)

    def value(self, name: str) -> str:
        self.is_valid()
        return self.cleaned_data.get(name, "").strip()


class KeyIssueForm(forms.Form):
    """端末認証キー新規発行: the login ID that will use the device."""

    user = forms.ModelChoiceField(
        label=_("端末を利用するログインID"),
        queryset=None,
        empty_label=None,
        error_messages={
            "required": _("端末を利用するログインIDを選択してください。"),
            "invalid_choice": UNKNOWN_USER,
        },
    )
    device_name = forms.CharField(label=_("端末名"), required=False, widget=_device_name_input())

    def __init__(self, *args, contract, default_name: str, **kwargs):
        """`default_name`: the name a key issued now without one would get (端末-N)."""
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = key_user_list(contract=contract)
        name = self.fields["device_name"]
        name.widget.attrs["placeholder"] = default_name
        name.help_text = DEFAULT_NAME_HELP % {"name": default_name}

    def clean_device_name(self):
        name = self.cleaned_data["device_name"]
        return rules.clean_device_name(name) if name else ""


class KeyRenameForm(forms.Form):
    """端末名変更."""

    device_name = forms.CharField(
        label=_("端末名"),
        widget=_device_name_input(),
        error_messages={"required": rules.DEVICE_NAME_REQUIRED},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device_name"].help_text = _(
            "%(max)d文字以内。同じ端末名を複数の端末に付けることもできます。"
        ) % {"max": rules.DEVICE_NAME_MAX_LENGTH}

    def clean_device_name(self):
        return rules.clean_device_name(self.cleaned_data["device_name"])


class AccessSettingForm(forms.Form):
    """アクセス設定."""

    device_auth_required = AccessSetting._meta.get_field("device_auth_required").formfield(
        help_text=_(
            "オンにすると、利用者はログインIDとパスワードに加えて、端末ごとに端末認証キーの"
            "登録が必要になります。オフにすると、パスワードだけでログインできます。"
            "管理者のログインには端末認証キーは不要です。"
        )
    )
    notify_on_register = AccessSetting._meta.get_field("notify_on_register").formfield(
        help_text=_("ログインID、端末名、登録日時、IPアドレスをお知らせします。")
    )


class KeyInput(forms.TextInput):
    """Typed in clear (a short code read from a mail), but never sent back in a page."""

    def format_value(self, value):
        return None


class KeyEntryForm(forms.Form):
    """端末認証キーの入力 (the sign-in step of a browser not yet registered)."""

    key = forms.CharField(
        label=_("端末認証キー"),
        max_length=4 * rules.KEY_LENGTH,
        help_text=_(
            "管理者から届いたメールに記載の8文字の端末認証キーを入力してください。"
            "大文字と小文字は区別されます。"
        ),
        widget=KeyInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "autocorrect": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def clean_key(self):
        value = rules.normalize_entered_key(self.cleaned_data["key"])
        if not rules.is_well_formed_key(value):
            raise ValidationError(
                _("端末認証キーは半角英数字8文字です。メールに記載のとおりに入力してください。"),
                code="key_format",
            )
        return value
