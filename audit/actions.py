"""Every kind of entry the audit log holds, with the label ログ管理 shows."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    CONTRACT_CREATED = "contract_created", _("契約作成")
    USER_CREATED = "user_created", _("利用者ID作成")
    USER_CHANGED = "user_changed", _("利用者ID変更")
    USER_DELETED = "user_deleted", _("利用者ID削除")
    PROFILE_CHANGED = "profile_changed", _("利用者情報変更（本人）")
    PASSWORD_CHANGED = "password_changed", _("パスワード変更（本人）")
    USERS_IMPORTED = "users_imported", _("CSVインポート")
    DEVICE_KEY_ISSUED = "device_key_issued", _("端末認証キー発行")
    DEVICE_KEY_RENAMED = "device_key_renamed", _("端末名変更")
    DEVICE_KEY_REISSUED = "device_key_reissued", _("端末認証キー再発行")
    DEVICE_KEY_STOPPED = "device_key_stopped", _("端末認証キー停止")
    DEVICE_KEY_UNSTOPPED = "device_key_unstopped", _("端末認証キー停止解除")
    DEVICE_KEY_DELETED = "device_key_deleted", _("端末認証キー削除")
    DEVICE_REGISTERED = "device_registered", _("端末登録")
    DEVICE_KEY_WRONG = "device_key_wrong", _("端末認証キー誤入力")
    DEVICE_KEY_INVALIDATED = "device_key_invalidated", _("端末認証キー無効化")
    DEVICE_SIGNED_OUT = "device_signed_out", _("アプリのログアウト")
    APP_REGISTRATION_REFUSED = "app_registration_refused", _("アプリの登録拒否")
    SESSION_ENDED = "session_ended", _("端末認証キーによる利用停止")
    ACCESS_SETTING_CHANGED = "access_setting_changed", _("アクセス設定変更")
    SIGN_IN = "sign_in", _("ログイン")
    SIGN_IN_FAILED = "sign_in_failed", _("ログイン失敗")
    SIGN_IN_THROTTLED = "sign_in_throttled", _("ログイン制限")
    SIGN_OUT = "sign_out", _("ログアウト")
    SIGN_IN_THROTTLE_LIFTED = "sign_in_throttle_lifted", _("ログイン制限解除")
    ACCOUNT_THROTTLED = "account_throttled", _("ログイン失敗の多発による制限")
    MAIL_RESENT = "mail_resent", _("通知メール再送")
    LOG_PRUNED = "log_pruned", _("ログ削除")
    API_CLIENT_CREATED = "api_client_created", _("APIクライアント作成")
    API_CLIENT_REVOKED = "api_client_revoked", _("APIクライアント無効化")
