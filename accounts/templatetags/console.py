from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (pagination links
    keep the search and the sort); an empty value removes the parameter."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in ("", None):
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + query.urlencode()


@register.filter(expects_localtime=True)
def console_time(value, precision="minutes"):
    """A date and time as the console shows it, in a <time> element that carries it
    in ISO 8601: `{{ key.created_at|console_time }}` → 2026/11/25 18:00, with
    `:"seconds"` → 2026/11/25 18:00:05. Nothing for no value.

    One filter instead of `|date:'c'` and `|date:"Y/m/d H:i"` side by side: a list of
    50 rows shows 150 of them, and Django's date formatting was a tenth of the page
    (docs/PERFORMANCE.md)."""
    if not value:
        return ""
    shown = value.strftime("%Y/%m/%d %H:%M:%S" if precision == "seconds" else "%Y/%m/%d %H:%M")
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), shown)
