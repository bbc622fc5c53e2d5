"""How the console writes dates and times: Japan time, minutes (or seconds), and the
same instant in ISO 8601 for machines and screen readers."""

from datetime import UTC, datetime

from django.template import Context, Template

from accounts.templatetags.console import console_time

INSTANT = datetime(2026, 11, 25, 17, 0, 5, tzinfo=UTC)  # 26 Nov 02:00:05 in Tokyo


def render(source: str, **context) -> str:
    return Template("{% load console %}" + source).render(Context(context))


def test_a_time_is_shown_in_japan_time_to_the_minute_with_its_iso_form():
    assert render("{{ t|console_time }}", t=INSTANT) == (
        '<time datetime="2026-11-26T02:00:05+09:00">2026/11/26 02:00</time>'
    )


def test_seconds_when_asked():
    assert render('{{ t|console_time:"seconds" }}', t=INSTANT).endswith(
        ">2026/11/26 02:00:05</time>"
    )


def test_no_time_shows_nothing():
    assert console_time(None) == ""
    assert render("[{{ t|console_time }}]", t=None) == "[]"
