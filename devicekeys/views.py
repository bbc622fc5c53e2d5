"""端末認証キー管理: the screens of chapter 2 of the guide.

Each view: guard → access_device_key → form → one service call → message →
redirect. Every page that shows a key is sent with Cache-Control: no-store.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.guards import administrator_required
from accounts.selectors import access_user
from core.exceptions import LimitReached
from devicekeys import rules
from devicekeys.exceptions import InvalidTransition
from devicekeys.forms import (
    AccessSettingForm,
    KeyFilterForm,
    KeyIssueForm,
    KeyRenameForm,
    KeyUserSearchForm,
)
from devicekeys.selectors import (
    PICKER_SIZE,
    access_device_key,
    access_setting_get,
    device_key_count,
    device_key_list,
    key_user_choices,
    key_user_with_login_id,
)
from devicekeys.services import (
    ACCESS_SETTING_FIELDS,
    access_setting_change,
    device_key_delete,
    device_key_issue,
    device_key_reissue,
    device_key_rename,
    device_key_stop,
    device_key_stop_all_for_user,
    device_key_unstop,
)

KEYS_PER_PAGE = 50
SORTABLE = {"created": _("キー作成日時"), "registered": _("キー登録日時")}


def _limit_message(key_count: int) -> str:
    """The limit's message when the contract holds its 999 keys, else nothing."""
    full = key_count >= rules.KEYS_PER_CONTRACT.maximum
    return rules.KEYS_PER_CONTRACT.message if full else ""


def _back_to_list(request) -> str:
    """Where a screen returns: the list page it came from (filters, sort and page
    kept, passed along as `next`), else the list."""
    back = request.POST.get("next") or request.GET.get("next", "")
    list_url = reverse("devicekeys:key-list")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    same_list = back == list_url or back.startswith(f"{list_url}?")
    return back if safe and same_list else list_url


def _sort_columns(sort: str) -> list[dict]:
    """The sortable date columns: label, the sort their header link sets, and aria-sort."""
    columns = []
    for name, label in SORTABLE.items():
        if sort == name:
            next_sort, aria = f"-{name}", "ascending"
        elif sort == f"-{name}":
            next_sort, aria = name, "descending"
        else:
            next_sort, aria = f"-{name}", None
        columns.append({"label": label, "next": next_sort, "aria": aria})
    return columns


@administrator_required
@never_cache
@require_GET
def key_list(request):
    """端末認証キー一覧."""
    contract = request.contract
    filter_form = KeyFilterForm(request.GET)
    filters = filter_form.filters()
    keys = device_key_list(contract=contract, **filters)
    page = Paginator(keys, KEYS_PER_PAGE).get_page(request.GET.get("page"))
    filtered = bool(filters["login_id"] or filters["status"])
    # Unfiltered, the paginator has counted the contract's keys already.
    key_count = device_key_count(contract=contract) if filtered else page.paginator.count
    context = {
        "title": _("端末認証キー一覧"),
        "filter_form": filter_form,
        "filtered": filtered,
        "filtered_user": key_user_with_login_id(contract=contract, login_id=filters["login_id"]),
        "page": page,
        "sort_columns": _sort_columns(filters["sort"]),
        "key_count": key_count,
        "key_limit": rules.KEY_LIMIT,
        "limit_message": _limit_message(key_count),
        "key_visible_suffix": rules.KEY_VISIBLE_SUFFIX,
        "wrong_entry_limit": rules.WRONG_ENTRY_LIMIT,
        "device_name_max_length": rules.DEVICE_NAME_MAX_LENGTH,
    }
    return render(request, "devicekeys/key_list.html", context)


@administrator_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_issue(request):
    """端末認証キー新規発行: a picker of the contract's login IDs (searched, at most
    PICKER_SIZE shown), `?login_id=` choosing one; then the issued key's own page."""
    contract = request.contract
    key_count = device_key_count(contract=contract)
    search_form = KeyUserSearchForm(request.GET)
    wanted = search_form.value("login_id")
    chosen = key_user_with_login_id(contract=contract, login_id=wanted)
    unknown_login_id = wanted if wanted and chosen is None else ""
    form = KeyIssueForm(
        request.POST if request.method == "POST" else None,
        initial={"user": chosen},
        contract=contract,
        default_name=rules.default_device_name(key_count),
    )
    if request.method == "POST" and form.is_valid():
        try:
            key = device_key_issue(
                contract=contract,
                user=form.cleaned_data["user"],
                device_name=form.cleaned_data["device_name"],
                actor=request.user,
            )
        except LimitReached as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("devicekeys:key-issued", pk=key.pk)
    if form.is_bound:  # the login ID sent stays in the list while the form is put right
        chosen = form.cleaned_data.get("user") or chosen
    search = search_form.value("q")
    users, more = key_user_choices(contract=contract, search=search, chosen=chosen)
    context = {
        "title": _("端末認証キー新規発行"),
        "form": form,
        "search_form": search_form,
        "users": users,
        "more": more,
        "picker_size": PICKER_SIZE,
        "no_users": not users and not search,
        "search": search,
        "chosen": chosen,
        "selected": str(form["user"].value() or ""),
        "unknown_login_id": unknown_login_id,
        "key_count": key_count,
        "key_limit": rules.KEY_LIMIT,
        "limit_message": _limit_message(key_count),
    }
    return render(request, "devicekeys/key_issue.html", context)


@administrator_required
@never_cache
@require_GET
def key_issued(request, pk):
    """The key just issued, large and ready to copy, with what happens next. Shown
    until a device registers it, as in the list; then masked."""
    key = access_device_key(request.contract, pk)
    context = {
        "title": _("端末認証キーを発行しました"),
        "key": key,
        "default_name": rules.is_default_device_name(key.device_name),
        "wrong_entry_limit": rules.WRONG_ENTRY_LIMIT,
        "key_visible_suffix": rules.KEY_VISIBLE_SUFFIX,
    }
    return render(request, "devicekeys/key_issued.html", context)


@administrator_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_rename(request, pk):
    """端末名変更: the page without JavaScript, and the in-place edit of the list
    (which asks for JSON)."""
    key = access_device_key(request.contract, pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = KeyRenameForm(
        request.POST if request.method == "POST" else None,
        initial={"device_name": key.device_name},
    )
    if request.method == "POST":
        if form.is_valid():
            key = device_key_rename(
                contract=request.contract,
                key=key,
                device_name=form.cleaned_data["device_name"],
                actor=request.user,
            )
            message = _("端末名を「%(name)s」に変更しました。") % {"name": key.device_name}
            if wants_json:
                return JsonResponse({"device_name": key.device_name, "message": message})
            messages.success(request, message)
            return redirect(_back_to_list(request))
        if wants_json:
            return JsonResponse({"errors": form.errors["device_name"]}, status=400)
    context = {
        "title": _("端末名変更"),
        "form": form,
        "key": key,
        "back": _back_to_list(request),
    }
    return render(request, "devicekeys/key_rename.html", context)


@dataclass(frozen=True)
class KeyAction:
    """One action of a list row (再発行, 停止, 停止解除, 削除): its service and status
    rule, and the words of its confirmation page and of its outcome."""

    service: Callable
    rule: rules.Action
    label: str  # the list's link: 再発行
    title: str  # the confirmation's heading
    question: str  # names the device and the login ID
    button: str
    done: str  # the message once done
    danger: bool = True  # the user loses something (all but 停止解除)

    def lost(self, key) -> list[str]:
        """What the user loses (or gets back), in the words of the confirmation."""
        names = {"login_id": key.user.login_id, "email": key.user.email}
        return [str(line) % names for line in KEY_ACTION_CONSEQUENCES[self.rule, key.is_registered]]


MAILED_TO = _("新しい端末認証キーは %(login_id)s のメールアドレス（%(email)s）に通知されます。")
NOT_MAILED = _("利用者へのメール通知はありません。")
DELETED_FOR_GOOD = [
    _("端末認証キーを削除すると登録した端末からご利用できなくなります。"),
    _("削除した端末認証キーはもとに戻せません。"),
]
# (action, the key registered by a device?) -> what the confirmation says will happen.
KEY_ACTION_CONSEQUENCES = {
    (rules.Action.REISSUE, True): [
        _(
            "再発行すると、このキーを登録した端末からはご利用できなくなります。"
            "新しい端末認証キーをその端末で入力するまで、ログインできません。"
        ),
        MAILED_TO,
    ],
    (rules.Action.REISSUE, False): [
        _("再発行すると、メールで通知した今の端末認証キーは使えなくなります。"),
        MAILED_TO,
    ],
    (rules.Action.STOP, True): [
        _(
            "停止すると、このキーを登録した端末（ブラウザやアプリ）からはご利用できなくなります。"
            "停止解除でもとに戻せます。"
        ),
        NOT_MAILED,
    ],
    (rules.Action.STOP, False): [
        _("停止すると、このキーは端末で登録できなくなります。停止解除でもとに戻せます。"),
        NOT_MAILED,
    ],
    (rules.Action.UNSTOP, True): [
        _(
            "停止を解除すると、このキーを登録した端末から再びご利用できるようになります。"
            "端末を紛失した場合は、停止のままにするか削除してください。"
        ),
    ],
    (rules.Action.UNSTOP, False): [
        _("停止を解除すると、このキーを端末で登録できるようになります。"),
    ],
    (rules.Action.DELETE, True): DELETED_FOR_GOOD,
    (rules.Action.DELETE, False): DELETED_FOR_GOOD,
}


def _key_action_view(action: KeyAction):
    """A list action: GET shows its confirmation (the key, and what the user loses) and
    changes nothing; POST of the confirmation calls the service once, and a message
    (`done`, or why the status rules refused it) goes back to the list page."""

    @administrator_required
    @never_cache
    @require_http_methods(["GET", "POST"])
    def view(request, pk):
        key = access_device_key(request.contract, pk)
        names = {"name": key.device_name, "login_id": key.user.login_id}
        back = _back_to_list(request)
        refused = _(
            "「%(name)s」の端末認証キーはステータスが「%(status)s」のため、%(action)sできません。"
        ) % {**names, "status": key.get_status_display(), "action": action.label}
        if key.status == rules.Status.INVALID:
            refused += _("無効になった端末認証キーは再発行してください。")
        if not rules.allowed(action.rule, key.state, by=rules.By.ADMINISTRATOR):
            messages.error(request, refused)
            return redirect(back)
        if request.method == "POST":
            try:
                action.service(contract=request.contract, key=key, actor=request.user)
            except InvalidTransition:  # another administrator changed it meanwhile
                messages.error(request, refused)
            else:
                messages.success(request, action.done % names)
            return redirect(back)
        context = {
            "title": action.title,
            "key": key,
            "question": action.question % names,
            "lost": action.lost(key),
            "danger": action.danger,
            "button": action.button,
            "back": back,
        }
        return render(request, "devicekeys/key_confirm.html", context)

    view.__doc__ = f"{action.title}, then {action.label}: {action.service.__doc__}"
    return view


key_reissue = _key_action_view(
    KeyAction(
        service=device_key_reissue,
        rule=rules.Action.REISSUE,
        label=_("再発行"),
        title=_("端末認証キーの再発行確認"),
        question=_("「%(name)s」（%(login_id)s）の端末認証キーを再発行してよろしいですか？"),
        button=_("再発行する"),
        done=_(
            "「%(name)s」の端末認証キーを再発行し、%(login_id)s のメールアドレスに通知しました。"
            "以前のキーを登録した端末からはご利用できなくなります。"
        ),
    )
)
key_stop = _key_action_view(
    KeyAction(
        service=device_key_stop,
        rule=rules.Action.STOP,
        label=_("停止"),
        title=_("端末認証キーの停止確認"),
        question=_("「%(name)s」（%(login_id)s）の端末認証キーを停止してよろしいですか？"),
        button=_("停止する"),
        done=_(
            "「%(name)s」（%(login_id)s）の端末認証キーを停止しました。"
            "このキーを登録した端末からはご利用できなくなります。"
        ),
    )
)
key_unstop = _key_action_view(
    KeyAction(
        service=device_key_unstop,
        rule=rules.Action.UNSTOP,
        label=_("停止解除"),
        title=_("端末認証キーの停止解除確認"),
        question=_("「%(name)s」（%(login_id)s）の端末認証キーの停止を解除してよろしいですか？"),
        button=_("停止を解除する"),
        done=_("「%(name)s」（%(login_id)s）の端末認証キーの停止を解除しました。"),
        danger=False,
    )
)
key_delete = _key_action_view(
    KeyAction(
        service=device_key_delete,
        rule=rules.Action.DELETE,
        label=_("削除"),
        title=_("端末認証キーの削除確認"),
        question=_("「%(name)s」（%(login_id)s）の端末認証キーを削除してよろしいですか？"),
        button=_("削除する"),
        done=_("「%(name)s」（%(login_id)s）の端末認証キーを削除しました。"),
    )
)


@administrator_required
@never_cache
@require_http_methods(["GET", "POST"])
def user_keys_stop(request, user_id):
    """「このログインIDの全キーを停止」: a confirmation, then every key of one login ID stopped."""
    user = access_user(request.contract, user_id)
    list_of_user = reverse("devicekeys:key-list") + "?" + urlencode({"login_id": user.login_id})
    if request.method == "POST":
        stopped = device_key_stop_all_for_user(
            contract=request.contract, user=user, actor=request.user
        )
        messages.success(
            request,
            _("%(login_id)s の端末認証キーを%(count)d件停止しました。")
            % {"login_id": user.login_id, "count": stopped},
        )
        return redirect(list_of_user)
    keys = list(device_key_list(contract=request.contract, user=user))
    context = {
        "title": _("このログインIDの全キーを停止"),
        "target": user,
        "keys": keys,
        "stoppable": sum(key.can_stop for key in keys),
        "back": list_of_user,
    }
    return render(request, "devicekeys/user_keys_stop.html", context)


@administrator_required
@never_cache
def key_detail(request, pk):
    """One key in full: the list's columns and its last use (time, IP address, browser).
    Read only; another contract's id is 404 whatever the method."""
    key = access_device_key(request.contract, pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = {"title": _("端末認証キーの詳細"), "key": key, "back": _back_to_list(request)}
    return render(request, "devicekeys/key_detail.html", context)


@administrator_required
@never_cache
@require_http_methods(["GET", "POST"])
def access_settings(request):
    """アクセス設定: device authentication for the contract's users, and the mail on
    registration."""
    setting = access_setting_get(contract=request.contract)
    initial = {name: getattr(setting, name) for name in ACCESS_SETTING_FIELDS}
    form = AccessSettingForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        access_setting_change(contract=request.contract, actor=request.user, **form.cleaned_data)
        messages.success(request, _("アクセス設定を保存しました。"))
        return redirect("devicekeys:access-settings")
    return render(
        request, "devicekeys/access_settings.html", {"title": _("アクセス設定"), "form": form}
    )
