"""二段階認証: the second step of the sign-in, and the page where administrators and
support staff manage their second factors. Each view: guard → form → one service
call → message → redirect."""

import json

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.html import mark_safe
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import views as webauthn

from accounts.forms import ACCOUNT_THROTTLED
from accounts.user_forms import CurrentPasswordForm
from accounts.views import landing_url
from twostep import services, sessions
from twostep.forms import CodeForm, EnrolForm, PasskeyNameForm
from twostep.guards import account_required, second_step_required, sudo_required

CODE_WRONG = _("確認コードが正しくありません。続けて間違えると、しばらく入力できなくなります。")


def _next(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
    return wanted if safe else landing_url(request.user)


@never_cache
@sensitive_post_parameters("code")
@account_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """二段階認証 at sign-in: a code of the authenticator app or a recovery code, or a
    passkey. 戻る signs out, back to the password step."""
    user = request.user
    if user.is_verified() or not services.enrolled(user):
        return redirect(_next(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = services.code_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            sessions.second_step_passed(request)
            return redirect(_next(request))
        form.add_error("code", CODE_WRONG)
    context = {
        "title": _("二段階認証"),
        "form": form,
        "next": _next(request),
        "has_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "has_passkeys": services.passkey_list(user=user).exists(),
    }
    return render(request, "twostep/verify.html", context)


@never_cache
@sensitive_post_parameters("current_password", "code")
@account_required
@require_http_methods(["GET", "POST"])
def confirm(request):
    """本人確認 before a sensitive change (twostep.guards.sudo_required): the password,
    or for an account with a second factor a code of it or a passkey; then back to
    `next` (this host only)."""
    user = request.user
    with_factor = services.enrolled(user)
    data = request.POST if request.method == "POST" else None
    form = CodeForm(data) if with_factor else CurrentPasswordForm(request, data)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data.get("code")  # the password was checked by the form
        if code is None or services.code_verify(user=user, token=code) is not None:
            sessions.proved(request)
            return redirect(_next(request))
        form.add_error("code", CODE_WRONG)
    return _confirm_page(request, form, status=429 if _throttled(form) else 200)


def _throttled(form) -> bool:
    return form.has_error("current_password", ACCOUNT_THROTTLED)


def _confirm_page(request, form, locked_message="", *, status=200):
    user = request.user
    context = {
        "title": _("本人確認"),
        "form": form,
        "locked_message": locked_message,
        "next": _next(request),
        "back": landing_url(user),
        "with_factor": "code" in form.fields,
        "has_passkeys": services.passkey_list(user=user).exists(),
    }
    return render(request, "twostep/confirm.html", context, status=status)


def _confirm_locked_out(request, message):
    """django-axes locked the password out (accounts.views.locked_out): the page again,
    with the sign-in page's words."""
    return _confirm_page(request, CurrentPasswordForm(request), message, status=429)


confirm.locked_out_page = _confirm_locked_out


@never_cache
@account_required
def setup(request):
    """二段階認証の設定: the authenticator app, the passkeys, the recovery codes."""
    user = request.user
    context = {
        "title": _("二段階認証の設定"),
        "app": TOTPDevice.objects.filter(user=user, confirmed=True).first(),
        "passkeys": list(services.passkey_list(user=user)),
        "codes_left": services.recovery_codes_left(user=user),
        "required": services.required(user) and not services.enrolled(user),
        "name_form": PasskeyNameForm(),
    }
    return render(request, "twostep/setup.html", context)


@never_cache
@sensitive_post_parameters("code")
@account_required
@require_http_methods(["GET", "POST"])
def app(request):
    """認証アプリの登録: POST from the settings starts it (a new secret); the page shows
    its QR code and the secret as text, and takes its first code."""
    user = request.user
    if services.enrolled(user) and not user.is_verified():
        raise PermissionDenied  # a new app replaces the old one: a removal
    if request.method == "POST" and "start" in request.POST:
        services.totp_begin(user=user)
        return redirect("twostep:app")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        return redirect("twostep:setup")
    form = EnrolForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.totp_confirm(user=user, token=form.cleaned_data["code"], actor=user)
        if confirmed is not None:
            otp_login(request, confirmed)
            messages.success(request, _("認証アプリを登録しました。"))
            if not services.recovery_codes_left(user=user):
                return _show_codes(request, services.recovery_codes_renew(user=user, actor=user))
            sessions.factors_seen(request)
            return redirect("twostep:setup")
        form.add_error("code", CODE_WRONG)
    qr = segno.make(device.config_url, error="m")
    context = {
        "title": _("認証アプリの登録"),
        "form": form,
        "qr": mark_safe(qr.svg_inline(scale=4, title=str(_("認証アプリに読み取らせるQRコード")))),  # noqa: S308 (segno's own SVG)
        "secret": _grouped(device.config_url.split("secret=")[1].split("&")[0]),
    }
    return render(request, "twostep/app.html", context)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@account_required
@second_step_required
@sudo_required(back="twostep:setup")
@require_POST
def app_remove(request):
    if services.totp_remove(user=request.user, actor=request.user):
        messages.success(request, _("認証アプリの登録を削除しました。"))
    return redirect("twostep:setup")


@never_cache
@account_required
@second_step_required
@sudo_required(back="twostep:setup")
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """リカバリーコードの発行: new codes, shown once (the earlier ones stop working)."""
    if request.method != "POST":
        return redirect("twostep:setup")
    return _show_codes(
        request, services.recovery_codes_renew(user=request.user, actor=request.user)
    )


def _show_codes(request, codes):
    sessions.factors_seen(request)
    context = {"title": _("リカバリーコード"), "codes": codes}
    return render(request, "twostep/recovery_codes.html", context)


@account_required
@second_step_required
@require_POST
def passkey_rename(request, pk):
    form = PasskeyNameForm(request.POST)
    if form.is_valid():
        services.passkey_rename(
            user=request.user, pk=pk, name=form.cleaned_data["name"], actor=request.user
        )
        messages.success(request, _("パスキーの名前を変更しました。"))
    else:
        messages.error(request, _("パスキーの名前は1～64文字で入力してください。"))
    return redirect("twostep:setup")


@account_required
@second_step_required
@sudo_required(back="twostep:setup")
@require_POST
def passkey_delete(request, pk):
    services.passkey_delete(user=request.user, pk=pk, actor=request.user)
    messages.success(request, _("パスキーを削除しました。"))
    return redirect("twostep:setup")


# --- django-otp-webauthn's ceremonies, with the console's records ----------------------


class PasskeyRegistrationComplete(webauthn.CompleteCredentialRegistrationView):
    """A passkey registered: named and recorded (twostep.services.passkey_registered)."""

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            user = self.request.user
            device = services.passkey_list(user=user).get(pk=json.loads(response.content)["id"])
            services.passkey_registered(user=user, device=device, actor=user)
            if not user.is_verified():  # the sign-in just proved the passkey
                otp_login(self.request, device)
            sessions.factors_seen(self.request)
            messages.success(self.request, _("パスキーを登録しました。"))
        return response


class PasskeyAuthenticationComplete(webauthn.CompleteCredentialAuthenticationView):
    """The second step (or 本人確認) passed with a passkey: a new session key, a fresh
    proof, recorded."""

    def complete_auth(self, device):
        super().complete_auth(device)
        sessions.second_step_passed(self.request)

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            services.passkey_verified(user=self.request.user)
        return response
