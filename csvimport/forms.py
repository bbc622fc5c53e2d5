from django import forms
from django.utils.translation import gettext_lazy as _

from csvimport import format as csv_format


class UserImportForm(forms.Form):
    """CSVインポート: the file, its encoding, 通知. The file's lines are checked by
    the import itself (csvimport.services), in the background; the form only
    refuses what cannot be stored: no file, an empty one, one over 1 MiB."""

    file = forms.FileField(
        label=_("CSVファイル"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    encoding = forms.ChoiceField(
        label=_("文字コード"),
        choices=list(csv_format.ENCODINGS.items()),
        initial="auto",
        required=False,
        help_text=_("通常は「自動判別」のままで構いません。"),
    )
    notify_users = forms.BooleanField(
        label=_("各利用者IDのメールアドレスに通知する"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > csv_format.MAX_BYTES:
            raise forms.ValidationError(
                csv_format.TOO_LARGE,
                code="file_too_large",
                params={"size": f"{csv_format.MAX_BYTES:,}"},
            )
        return upload

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "file_name": data["file"].name,
            "content": data["file"].read(),
            "encoding": data["encoding"] or "auto",
            "notify_users": data["notify_users"],
        }
