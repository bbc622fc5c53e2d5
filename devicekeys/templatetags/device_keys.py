"""What the key screens show of each key, written in Python rather than as included
templates: the 端末認証キー一覧 shows them on every one of its 50 rows, and an
include per cell was a fifth of the page's time (docs/PERFORMANCE.md)."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from devicekeys import rules

register = template.Library()

STATUS_MARKS = {"active": "●", "stopped": "■"}  # any other status: ✕
# 利用者ID一覧's count of a login ID's keys in each state (devicekeys.selectors.KeyStates):
# the state, the status it shows as, its mark and its word.
KEY_STATES = (
    ("in_use", rules.Status.ACTIVE, "●", rules.Status.ACTIVE.label),
    ("waiting", rules.Status.ACTIVE, "○", _("未登録")),
    ("stopped", rules.Status.STOPPED, "■", rules.Status.STOPPED.label),
    ("invalid", rules.Status.INVALID, "✕", rules.Status.INVALID.label),
)


@register.simple_tag
def key_status(key):
    """ステータス of one key: a word and a shape, never colour alone."""
    return format_html(
        '<span class="status status-{}"><span class="status-mark" aria-hidden="true">{}</span>'
        "{}</span>",
        key.status,
        STATUS_MARKS.get(key.status, "✕"),
        key.get_status_display(),
    )


@register.simple_tag
def key_state_counts(states):
    """How many keys a row of 利用者ID一覧 has in each state (its KeyStates), the states
    it has none in left out: 「●利用中 2 ○未登録 1」."""
    counts = [
        (status, mark, label, getattr(states, name))
        for name, status, mark, label in KEY_STATES
        if getattr(states, name)
    ]
    if not counts:
        return ""
    items = format_html_join(
        "",
        '<li class="status status-{}"><span class="status-mark" aria-hidden="true">{}</span>'
        "{} {}</li>",
        counts,
    )
    return format_html('<ul class="key-states">{}</ul>', items)


@register.simple_tag
def key_value(key, *, reveal: bool = True, note: str = "hidden"):
    """端末認証キー as every screen shows it: in clear until a device registers it
    (`reveal`; Django admin passes False and always masks), then masked but for its
    last characters, with the note saying so: read out by screen readers only in the
    list's cells (`note="hidden"`), shown as help text elsewhere (`note="help"`)."""
    shown = key.shown_key if reveal else key.masked_key
    if not key.is_registered:
        return format_html('<code class="device-key">{}</code>', shown)
    note_class = "visually-hidden" if note == "hidden" else "help"
    return format_html(
        '<code class="device-key">{}</code> <span class="{}">{}</span>',
        shown,
        note_class,
        rules.masked_note(),
    )


@register.simple_tag(takes_context=True)
def key_row_action(context, action, label, key):
    """One action of a list row (再発行, 停止, 停止解除): a link to its confirmation
    page, which comes back to the same list page (`next_path` when the list worked it
    out once, else the request's). Nothing changes before the confirmation's POST."""
    request = context["request"]
    back = context.get("next_path") or request.get_full_path()
    return format_html(
        '<a href="{}?{}" class="cell-link">{}<span class="visually-hidden"> {}</span></a>',
        action,
        urlencode({"next": back}),
        label,
        key.device_name,
    )
