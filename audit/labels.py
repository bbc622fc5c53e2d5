"""Names of the changed fields in an audit entry, in the page's language."""

from django.utils.translation import gettext_lazy as _

from accounts.models import user_field_label

LABELS = {
    "device_name": _("端末名"),
    "device_key": _("端末認証キー"),
    "status": _("ステータス"),
    "lines": _("行数"),
    "created": _("作成件数"),
    "deleted": _("削除件数"),
    "older_than_days": _("保存期間（日）"),
    "device_auth_required": _("端末認証"),
    "notify_on_registration": _("端末登録時の通知"),
    "notification": _("通知番号"),
}


def field_label(name: str) -> str:
    return str(LABELS[name]) if name in LABELS else user_field_label(name)
