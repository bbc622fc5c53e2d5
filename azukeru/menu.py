"""The menu at the top right of every console page, in the guide's order.

An item whose screen is not built yet has no URL name and is shown disabled,
never as a dead link; an issue that builds a screen fills in its URL name.
"""

from django.utils.translation import gettext_lazy as _

MENU = [
    (_("環境設定"), "accounts:settings"),
    (_("利用者ID管理"), "accounts:user-list"),
    (_("端末認証キー管理"), "devicekeys:key-list"),
    (_("AMSライセンス管理"), None),
    (_("マイナンバー権限管理"), None),
    (_("アクセス設定"), "devicekeys:access-settings"),
    (_("ログ管理"), "audit:entry-list"),
]
