from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from accounts import selectors, services
from accounts.auth import axes_username
from accounts.forms import ACCOUNT_THROTTLED, SignInForm, UserChangeForm, UserForm, UserSearchForm
from accounts.guards import administrator_required
from accounts.models import USERS_PER_CONTRACT, Role, user_field_label
from accounts.selectors import access_user
from accounts.user_forms import PasswordChangeForm
from api import services as api_services
from api import views as api_views
from api.selectors import access_app_registration, app_registration_list
from core.csvsafe import csv_download
from core.exceptions import LimitReached
from devicekeys import signin as device_sign_in
from devicekeys.selectors import device_key_list


class SignInView(auth_views.LoginView):
    """ログイン, one page for administrators and user IDs. Django's login() rotates the
    session key; axes throttles failures. A user ID whose contract requires device
    authentication goes on to the key step unless this browser is registered
    (devicekeys.signin)."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("ログイン")}

    def get_default_redirect_url(self):
        return landing_url(self.request.user)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, ACCOUNT_THROTTLED):
            response.status_code = 429  # as django-axes answers its own lockout
        return response

    def form_valid(self, form):
        user = form.get_user()
        next_url = self.get_redirect_url() or landing_url(user)
        return device_sign_in.after_password(self.request, user, next_url=next_url)


class SignOutView(auth_views.LogoutView):
    """ログアウト (POST only, as Django's LogoutView requires); the sign-in page then says
    so, in the language the console was shown in."""

    def post(self, request, *args, **kwargs):
        signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if signed_in:
            messages.success(request, _("ログアウトしました。"))
        return response


def landing_url(user) -> str:
    """Where a signed-in account starts: a user ID's home page, support staff's Django
    admin, the administrator's console."""
    if user.role == Role.USER:
        return reverse("accounts:user-home")
    if user.role == Role.SUPPORT:
        return reverse("admin:index")
    return reverse("accounts:console")


def home(request):
    """Where '/' leads: the sign-in page, or the account's starting page."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect(landing_url(request.user))


@administrator_required
def console(request):
    """The console's start page: the guide's menu items as entry points."""
    return render(request, "accounts/console.html", {"title": _("管理メニュー")})


def locked_out(request, original_response=None, credentials=None):
    """What django-axes shows a throttled password check: the sign-in page with the
    reason, or, for a signed-in account's current password (パスワード変更, or a page
    that names its own `locked_out_page`: 本人確認), that page with the same reason."""
    if request.resolver_match and request.resolver_match.namespace == "api":
        return api_views.throttled(settings.AXES_COOLOFF_TIME)  # JSON for an app: 429
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "ログインに続けて失敗したため、このログインIDでのログインを一時的に制限しています。"
        "%(minutes)d分後にもう一度お試しください。"
    ) % {"minutes": minutes}
    if request.user.is_authenticated:
        own_page = getattr(request.resolver_match.func, "locked_out_page", None)
        if own_page is not None:  # a page of its own that checks the password (本人確認)
            return own_page(request, message)
        return password_change_page(request, PasswordChangeForm(request), message, status=429)
    form = SignInForm(request, initial={"username": axes_username(request, credentials)})
    context = {"form": form, "locked_message": message, "title": _("ログイン")}
    return render(request, "accounts/login.html", context, status=429)


def _password_change_urls(user) -> tuple[str, str]:
    """Where the form of パスワード変更 posts, and where 戻る (and the change) lead."""
    if user.is_administrator:
        return reverse("accounts:settings-password"), reverse("accounts:settings")
    return reverse("accounts:password-change"), reverse("accounts:user-home")


def password_change_page(request, form, locked_message="", *, status=200):
    """パスワード変更: a user ID's (from their home) or the administrator's (環境設定)."""
    action, back = _password_change_urls(request.user)
    context = {
        "title": _("パスワード変更"),
        "form": form,
        "locked_message": locked_message,
        "action": action,
        "back": back,
    }
    return render(request, "accounts/password_change.html", context, status=status)


def password_change_flow(request, *, change):
    """パスワード変更 of the signed-in account, with its service (`change`): the current
    password is checked as a sign-in is (throttled, counted, in ログ管理); other
    sessions end, this one stays."""
    form = PasswordChangeForm(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = change(
                contract=request.contract,
                actor=request.user,
                user=request.user,
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(
                request,
                _("パスワードを変更しました。ほかの端末やブラウザでのログインは終了しました。"),
            )
            return redirect(_password_change_urls(user)[1])
    status = 429 if form.has_error("current_password", ACCOUNT_THROTTLED) else 200
    return password_change_page(request, form, status=status)


# --- 利用者ID管理 ---------------------------------------------------------------

USERS_PER_PAGE = 50
SECRET_FIELDS = ("password", "password_confirm")
EXPORT_FIELDS = ("login_id", "email", "display_name", "title", "department", "phone")


@administrator_required
def user_list(request):
    """利用者ID一覧: search, sort, 50 a page, and the count against the limit."""
    search_form = UserSearchForm(request.GET)
    search = search_form.search()
    sort = request.GET.get("sort", "login_id")
    if sort not in selectors.USER_SORTS:
        sort = "login_id"
    users = selectors.user_list(request.contract, search=search, sort=sort)
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.user_list_key_states(request.contract, page.object_list)
    total = page.paginator.count if not search else selectors.user_count(request.contract)
    context = {
        "title": _("利用者ID一覧"),
        "page": page,
        "search": search,
        "search_form": search_form,
        "sort": sort,
        "total": total,
        "limit": USERS_PER_CONTRACT.maximum,
        "limit_message": USERS_PER_CONTRACT.message if total >= USERS_PER_CONTRACT.maximum else "",
    }
    return render(request, "accounts/user_list.html", context)


@never_cache
@sensitive_post_parameters(*SECRET_FIELDS)
@administrator_required
def user_create(request):
    """利用者ID新規作成: 入力 → 次へ → 確認 → 作成する → 完了.

    No state is kept between the steps: the confirmation page carries the
    entered values in hidden fields (passwords too, over HTTPS, never shown,
    never cached: never_cache), and 作成する runs every check again in the
    service. 戻る returns to the input with the values kept except the passwords.
    """
    step = "input"
    form = UserForm()
    if request.method == "POST":
        form = UserForm(request.POST)
        if "back" in request.POST and form.is_valid():
            form = UserForm(initial=form.without_passwords())
        elif form.is_valid():
            dry_run = "create" not in request.POST
            try:
                user = services.user_create(
                    contract=request.contract,
                    actor=request.user,
                    dry_run=dry_run,
                    **form.service_arguments(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            except LimitReached as error:
                form.add_error(None, str(error))
            else:
                if not dry_run:
                    return redirect("accounts:user-created", pk=user.pk)
                step = "confirm"
    context = {"title": _("利用者ID新規作成"), "form": form, "step": step}
    return render(request, "accounts/user_create.html", context)


@administrator_required
def user_created(request, pk):
    """完了: the created user ID, and where to go next."""
    user = access_user(request.contract, pk)
    context = {"title": _("利用者ID新規作成"), "created": user, "step": "done"}
    return render(request, "accounts/user_created.html", context)


@never_cache
@sensitive_post_parameters(*SECRET_FIELDS)
@administrator_required
def user_edit(request, pk):
    """利用者ID情報変更 (編集)."""
    user = access_user(request.contract, pk)
    form = UserChangeForm(initial=UserChangeForm.initial_for(user))
    if request.method == "POST":
        form = UserChangeForm(request.POST)
        if form.is_valid():
            try:
                changed = services.user_change(
                    contract=request.contract,
                    actor=request.user,
                    user=user,
                    **form.service_arguments(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if changed:
                    messages.success(
                        request,
                        _("利用者ID「%(login_id)s」の情報を変更しました。")
                        % {"login_id": form.cleaned_data["login_id"]},
                    )
                else:
                    messages.info(request, _("変更された項目はありませんでした。"))
                return redirect("accounts:user-list")
    context = {"title": _("利用者ID情報変更"), "form": form, "target": user}
    return render(request, "accounts/user_edit.html", context)


@administrator_required
def user_delete(request, pk):
    """利用者ID情報削除 確認 → 削除する."""
    user = access_user(request.contract, pk)
    if request.method == "POST":
        services.user_delete(contract=request.contract, actor=request.user, user=user)
        messages.success(
            request, _("利用者ID「%(login_id)s」を削除しました。") % {"login_id": user.login_id}
        )
        return redirect("accounts:user-list")
    context = {
        "title": _("利用者ID情報削除 確認"),
        "target": user,
        "keys": list(device_key_list(contract=request.contract, user=user)),
        "open_apps": _open_apps(request, user),
    }
    return render(request, "accounts/user_delete.html", context)


@administrator_required
@require_GET
def user_export(request):
    """CSVエクスポート: the contract's user IDs (never a password), UTF-8 with a BOM,
    every cell neutralised against formulas (core.csvsafe)."""
    users = selectors.user_list(request.contract).iterator()
    header = [user_field_label(name) for name in (*EXPORT_FIELDS, "created_at")]
    rows = (
        [
            *(getattr(user, name) for name in EXPORT_FIELDS),
            timezone.localtime(user.created_at).strftime("%Y/%m/%d %H:%M"),
        ]
        for user in users
    )
    filename = f"users_{timezone.localdate():%Y%m%d}.csv"
    return csv_download(filename, header, rows)


# --- アプリのログイン and 全端末からサインアウト of a user ID --------------------------------


def app_registrations_page(request, *, user, end_url, end_all_url, template, end_args=()):
    """The list of a login ID's app sign-ins, for the administrator or the user; each
    row that can still end links to its confirmation (`end_url` with `end_args`)."""
    registrations = list(app_registration_list(contract=request.contract, user=user))
    for registration in registrations:
        registration.end_href = reverse(end_url, args=[*end_args, registration.pk])
    context = {
        "title": _("アプリのログイン"),
        "target": user,
        "registrations": registrations,
        "end_all_url": end_all_url,
        "any_to_end": any(registration.can_end for registration in registrations),
    }
    return render(request, template, context)


def app_registration_end_flow(request, *, user, registration, back):
    """終了 of one app sign-in (`registration`) or of all of them (None): a confirmation
    page, then the service (the administrator's end mails the user)."""
    if request.method == "POST":
        if registration is None:
            ended = api_services.app_registrations_end_all(
                contract=request.contract, user=user, actor=request.user
            )
        else:
            ended = api_services.app_registration_end(
                contract=request.contract, user=user, registration=registration, actor=request.user
            )
        messages.success(
            request, _("アプリのログインを%(count)d件終了しました。") % {"count": ended}
        )
        return redirect(back)
    context = {
        "title": _("アプリのログインの終了 確認"),
        "target": user,
        "registration": registration,
        "mailed": request.user.pk != user.pk,
        "back": back,
    }
    return render(request, "api/app_registration_end.html", context)


@administrator_required
def user_apps(request, pk):
    """A user ID's app sign-ins (device name, client, dates, address, state)."""
    user = access_user(request.contract, pk)
    return app_registrations_page(
        request,
        user=user,
        end_url="accounts:user-app-end",
        end_args=[user.pk],
        end_all_url=reverse("accounts:user-apps-end", args=[user.pk]),
        template="accounts/user_apps.html",
    )


@administrator_required
def user_app_end(request, pk, registration_pk):
    user = access_user(request.contract, pk)
    registration = access_app_registration(request.contract, user, registration_pk)
    back = reverse("accounts:user-apps", args=[user.pk])
    return app_registration_end_flow(request, user=user, registration=registration, back=back)


@administrator_required
def user_apps_end(request, pk):
    user = access_user(request.contract, pk)
    back = reverse("accounts:user-apps", args=[user.pk])
    return app_registration_end_flow(request, user=user, registration=None, back=back)


@administrator_required
def user_sign_out(request, pk):
    """全端末からサインアウト 確認 → every session and app sign-in of the user ID ends."""
    user = access_user(request.contract, pk)
    if request.method == "POST":
        ended = services.user_sign_out_everywhere(
            contract=request.contract, actor=request.user, user=user
        )
        messages.success(
            request,
            _("「%(login_id)s」を全端末からサインアウトしました（アプリ%(count)d件）。")
            % {"login_id": user.login_id, "count": ended},
        )
        return redirect("accounts:user-apps", pk=user.pk)
    context = {
        "title": _("全端末からサインアウト 確認"),
        "target": user,
        "open_apps": _open_apps(request, user),
    }
    return render(request, "accounts/user_sign_out.html", context)


def _open_apps(request, user) -> list:
    """The app sign-ins of a login ID that are still open: those its deletion or
    全端末からサインアウト ends, named on the confirmation."""
    apps = app_registration_list(contract=request.contract, user=user)
    return [registration for registration in apps if registration.can_end]
