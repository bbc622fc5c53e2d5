from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import LOGIN_ID_MAX_LENGTH
from audit.actions import Action


class AuditFilterForm(forms.Form):
    """ログ管理's filters (GET). A value that does not validate is reported beside its
    field and left out of the filter."""

    date_from = forms.DateField(
        label=_("期間（開始日）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("期間（終了日）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=[("", _("すべて")), *Action.choices]
    )
    login_id = forms.CharField(
        label=_("ログインID（操作者または対象）"),
        required=False,
        max_length=LOGIN_ID_MAX_LENGTH,
        widget=forms.SearchInput,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("終了日は開始日以降の日付を入力してください。"))
        return data

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to") if "date_to" not in self.errors else None,
            "action": data.get("action") or "",
            "login_id": (data.get("login_id") or "").strip(),
        }
