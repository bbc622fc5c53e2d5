"""The console's error pages: every status a browser can meet, in the viewer's language
(LocaleMiddleware: the language cookie, then the browser's), in the console's frame.

- 404 (`page_not_found`, handler404); 403 is Django's own view with templates/403.html
  (the console's guards say who may use the page).
- 400 and 413 (`bad_request`, azukeru.urls' handler400): a body over
  DATA_UPLOAD_MAX_MEMORY_SIZE or with too many fields is Django's RequestDataTooBig /
  TooManyFieldsSent, which Django answers as a 400; the first is told as 413.
- The CSRF failure (`csrf_failure`, CSRF_FAILURE_VIEW): 403 with what to do.
- 405, 429 and any other answer Django or a decorator makes with a status and no body
  (`require_POST`'s HttpResponseNotAllowed, ...): ErrorPageMiddleware puts the page
  into it, keeping its status and headers (Allow, Retry-After).
- 414: a request line longer than MAX_URL_LENGTH is answered by ErrorPageMiddleware
  before any view reads it. gunicorn's own limit is lifted (gunicorn.conf.py), so that
  such an address reaches this page rather than gunicorn's plain-text answer.
- 500 (`server_error`, handler500): no database, no session, no context processor;
  the language from the request's cookie or header alone; plain text in both
  languages if even that template fails.

Under /api/ and /.well-known/ the API's edge answers in JSON (api/middleware.py);
nothing here renders a page there.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.support import service_name, support_contact

# Where azukeru/urls.py mounts the app API and its well-known documents (RFC 8615):
# machine-read, answered in JSON by api.middleware.ApiEdgeMiddleware.
API_PREFIXES = ("/api/", "/.well-known/")

# The longest path with its query string the console reads (characters as received,
# percent-encoded). Every form's fields fit in far less: the longest input is a mail
# address of 254 characters, 2,286 when percent-encoded in full.
MAX_URL_LENGTH = 8 * 1024

PAGES = {
    400: (
        _("リクエストを処理できませんでした"),
        _("送信された内容を読み取れませんでした。画面を開き直してから、もう一度お試しください。"),
    ),
    403: (
        _("この画面は表示できません"),
        _("この画面を表示する権限がありません。"),
    ),
    404: (
        _("ページが見つかりません"),
        _("お探しのページは削除されたか、アドレスが間違っている可能性があります。"),
    ),
    405: (
        _("この方法では操作できません"),
        _("画面のボタンやリンクから操作してください。"),
    ),
    413: (
        _("送信された内容が大きすぎます"),
        _("一度に送信できるのは%(size)sまでです。内容を減らしてから、もう一度お試しください。"),
    ),
    414: (
        _("アドレスが長すぎます"),
        _(
            "ページのアドレス（URL）が長すぎるため表示できません。"
            "検索する文字を短くしてから、もう一度お試しください。"
        ),
    ),
    429: (
        _("しばらくしてからもう一度お試しください"),
        _("短い時間に操作が繰り返されたため、一時的に受け付けを止めています。"),
    ),
}
CSRF_TITLE = _("画面の有効期限が切れました")
CSRF_REASON = _(
    "画面を開いてから時間がたったか、別の画面でログイン・ログアウトしたため、送信を"
    "受け付けられませんでした。画面を再読み込みしてから、もう一度操作してください。"
    "ブラウザのCookieが無効になっている場合は、有効にしてください。"
)
RETRY_AFTER = _("%(minutes)d分ほどたってから、もう一度お試しください。")


def error_page(request, status: int, *, title=None, reason=None) -> HttpResponse:
    """The framed page of `status`, in the active language."""
    default_title, default_reason = PAGES.get(status, PAGES[400])
    if reason is None and status == 413:
        reason = default_reason % {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    context = {"title": title or default_title, "reason": reason or default_reason}
    return render(request, "error.html", context, status=status)


def page_not_found(request, exception):
    """handler404. Its page names no URL and no reason (Django's technical 404 is
    shown only with DEBUG, which is off unless a developer turns it on)."""
    return error_page(request, 404)


def bad_request(request, exception):
    """handler400: a body too large is 413, anything else Django refuses is 400."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    return error_page(request, status)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW. Django's reason (no cookie, a wrong token, the origin) is not
    shown: what to do is the same for each."""
    return error_page(request, 403, title=CSRF_TITLE, reason=CSRF_REASON)


def server_error(request):
    """handler500. Whatever failed may be the database or the session, so nothing here
    reads either: the template gets no context processor."""
    language = translation.get_language_from_request(request)
    try:
        with translation.override(language):
            body = loader.get_template("500.html").render(
                {"service_name": service_name(), "support": support_contact()}
            )
    except Exception:  # the answer of last resort must not fail
        return HttpResponseServerError(SERVER_ERROR_TEXT, content_type="text/plain; charset=utf-8")
    return HttpResponseServerError(body)


SERVER_ERROR_TEXT = (
    "ただいま処理を完了できませんでした。しばらくしてからもう一度お試しください。\n"
    "Something went wrong. Please try again in a moment.\n"
)


class ErrorPageMiddleware:
    """The 414 page for an address too long, and the page of its status in every error
    answer that has none (empty body: 405 from require_POST, a bare 429, ...), keeping
    the answer's status and headers. Not under API_PREFIXES: the API answers in JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        if len(request.get_full_path()) > MAX_URL_LENGTH:
            return error_page(request, 414)
        response = self.get_response(request)
        if response.status_code < 400 or response.streaming or response.content:
            return response
        reason = _retry_after(response) if response.status_code == 429 else None
        page = error_page(request, response.status_code, reason=reason)
        response.content = page.content
        response["Content-Type"] = page["Content-Type"]
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response


def _retry_after(response) -> str | None:
    try:
        seconds = int(response.get("Retry-After", ""))
    except ValueError:
        return None
    minutes = max(1, -(-seconds // 60))
    return f"{PAGES[429][1]}{RETRY_AFTER % {'minutes': minutes}}"
