"""二段階認証: the second step of the sign-in, and the page where administrators and
support staff manage their second factors. Each view: guard → form → one service
call → message → redirect."""

import json
import math

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import mark_safe
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext, npgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import views as webauthn

from accounts.forms import ACCOUNT_THROTTLED
from accounts.user_forms import CurrentPasswordForm
from accounts.views import landing_url
from twostep import services, sessions
from twostep.forms import CodeForm, EnrolForm, PasskeyNameForm
from twostep.guards import account_required, second_step_required, sudo_required

CODE_WRONG = _("確認コードが正しくありません。続けて間違えると、しばらく入力できなくなります。")
CODE_THROTTLED = _(
    "確認コードを続けて間違えたため、あと%(wait)sは確認コードを受け付けません"
    "（今回入力したコードは確認していません）。%(wait)s待ってから、"
    "そのとき表示されている確認コードを入力してください。"
)
RECOVERY_CODES_GONE = _(
    "このリカバリーコードは、使用済みか新しいコードに替わったため、ダウンロードできません。"
    "必要なら新しいコードを発行してください。"
)
CODE_USED = _(
    "この確認コードはすでに使われました。確認コードは一度だけ使えます。"
    "認証アプリに次のコードが表示されてから入力してください。"
)
THROTTLED = "throttled"  # the code of CODE_THROTTLED's error: the page answers 429


def wait_words(until) -> str:
    """How long until `until`, rounded up, in words: seconds under a minute, minutes
    under two hours, hours beyond."""
    seconds = max(math.ceil((until - timezone.now()).total_seconds()), 1)
    if seconds < 60:
        return npgettext("待ち時間", "%(count)d秒", "%(count)d秒", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return npgettext("待ち時間", "%(count)d分", "%(count)d分", minutes) % {"count": minutes}
    hours = math.ceil(minutes / 60)
    return npgettext("待ち時間", "%(count)d時間", "%(count)d時間", hours) % {"count": hours}


def _checked(form, check):
    """The device that took the form's code (`check()`), or None with the form's error:
    a wrong code, django-otp's wait after wrong codes (the code was not checked), or
    the app's code of a moment already used."""
    try:
        device = check(form.cleaned_data["code"])
    except services.CodeThrottled as refused:
        message = CODE_THROTTLED % {"wait": wait_words(refused.until)}
        form.add_error("code", ValidationError(message, code=THROTTLED))
        return None
    except services.CodeUsed:
        form.add_error("code", CODE_USED)
        return None
    if device is None:
        form.add_error("code", CODE_WRONG)
    return device


def _status(form) -> int:
    return 429 if form.has_error("code", THROTTLED) else 200


def _recovery_codes_notice(request, device) -> None:
    """After a recovery code: a warning when few are left (RECOVERY_CODES_FEW)."""
    if not isinstance(device, StaticDevice):
        return
    left = services.recovery_codes_left(user=request.user)
    if left <= services.RECOVERY_CODES_FEW:
        messages.warning(request, recovery_codes_few(left))


def recovery_codes_few(left: int) -> str:
    """What the console says when RECOVERY_CODES_FEW or fewer recovery codes are left."""
    if not left:
        return gettext(
            "リカバリーコードがすべて使われました。二段階認証の設定で新しいコードを発行してください。"
        )
    return ngettext(
        "リカバリーコードの残りが%(left)d個です。二段階認証の設定で新しいコードを発行してください。",
        "リカバリーコードの残りが%(left)d個です。二段階認証の設定で新しいコードを発行してください。",
        left,
    ) % {"left": left}


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
        device = _checked(form, lambda code: services.code_verify(user=user, token=code))
        if device is not None:
            otp_login(request, device)
            sessions.second_step_passed(request)
            _recovery_codes_notice(request, device)
            return redirect(_next(request))
    context = {
        "title": _("二段階認証"),
        "form": form,
        "next": _next(request),
        "has_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "has_passkeys": services.passkey_list(user=user).exists(),
    }
    return render(request, "twostep/verify.html", context, status=_status(form))


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
        device = None  # the password was checked by the form
        if with_factor:
            device = _checked(form, lambda code: services.code_verify(user=user, token=code))
        if not form.errors:
            sessions.proved(request)
            _recovery_codes_notice(request, device)
            return redirect(_next(request))
    return _confirm_page(request, form, status=429 if _throttled(form) else 200)


def _throttled(form) -> bool:
    return form.has_error("current_password", ACCOUNT_THROTTLED) or form.has_error(
        "code", THROTTLED
    )


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
    """二段階認証の設定: the authenticator app, the passkeys, the recovery codes (and a
    notice when few are left)."""
    user = request.user
    codes_left = services.recovery_codes_left(user=user)
    context = {
        "title": _("二段階認証の設定"),
        "app": TOTPDevice.objects.filter(user=user, confirmed=True).first(),
        "passkeys": list(services.passkey_list(user=user)),
        "codes_left": codes_left,
        "codes_few": recovery_codes_few(codes_left)
        if 0 < codes_left <= services.RECOVERY_CODES_FEW
        else "",
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
        confirmed = _checked(
            form, lambda code: services.totp_confirm(user=user, token=code, actor=user)
        )
        if confirmed is not None:
            otp_login(request, confirmed)
            messages.success(request, _("認証アプリを登録しました。"))
            if not services.recovery_codes_left(user=user):
                return _show_codes(request, services.recovery_codes_renew(user=user, actor=user))
            sessions.factors_seen(request)
            return redirect("twostep:setup")
    qr = segno.make(device.config_url, error="m")
    context = {
        "title": _("認証アプリの登録"),
        "form": form,
        "qr": mark_safe(qr.svg_inline(scale=4, title=str(_("認証アプリに読み取らせるQRコード")))),  # noqa: S308 (segno's own SVG)
        "secret": _grouped(device.config_url.split("secret=")[1].split("&")[0]),
    }
    return render(request, "twostep/app.html", context, status=_status(form))


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


@never_cache
@sensitive_post_parameters("code")
@account_required
@second_step_required
@require_POST
def recovery_codes_download(request):
    """The codes of the page that just showed them, as a text file: the page sends them
    back, and only codes still to be used come out, so that nothing here reads a code
    that the browser does not hold already (no way round 本人確認 to codes shown once)."""
    codes = request.POST.getlist("code")
    if not services.recovery_codes_are_current(user=request.user, codes=codes):
        messages.error(request, RECOVERY_CODES_GONE)
        return redirect("twostep:setup")
    text = render_to_string("twostep/recovery_codes.txt", {"codes": codes}, request=request)
    response = HttpResponse(text.replace("\n", "\r\n"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"recovery-codes-{request.user.login_id}.txt"
    )
    return response


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
