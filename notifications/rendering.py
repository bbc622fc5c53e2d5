"""The mail of one outbox row: subject and plain-text body in the recipient's
language, and the headers that trace it back to its row.

Templates: templates/notifications/email/<language>/<kind>_subject.txt and
<kind>_body.txt. They are plain text, so they are rendered without HTML escaping.
"""

from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from accounts.models import user_field_label
from core.support import service_name, support_contact
from notifications.models import Notification

# The guide's times are Japan's, whatever the server's time zone.
MAIL_TIME_ZONE = ZoneInfo("Asia/Tokyo")
TRACE_HEADER = "X-Azukeru-Notification"


def build_message(notification: Notification) -> EmailMessage:
    language = notification.language
    with translation.override(language), timezone.override(MAIL_TIME_ZONE):
        context = _template_context(notification)
        prefix = f"notifications/email/{language}/{notification.kind}"
        subject = " ".join(_render(f"{prefix}_subject.txt", context).split())
        body = _render(f"{prefix}_body.txt", context).rstrip() + "\n"
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers=trace_headers(notification),
    )


def trace_headers(notification: Notification) -> dict[str, str]:
    """A stable Message-ID (the same on every attempt of this mail) and the outbox id,
    with which support staff find the row, and so the change, behind a mail."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return {
        "Message-ID": f"<notification.{notification.pk}.{notification.key.hex}@{domain}>",
        TRACE_HEADER: str(notification.pk),
        "Auto-Submitted": "auto-generated",
    }


def _template_context(notification: Notification) -> dict:
    context = dict(notification.context)
    if "changed_fields" in context:
        context["changed_fields"] = [user_field_label(name) for name in context["changed_fields"]]
    return {
        **context,
        "service_name": service_name(),
        "support": support_contact(),
        "login_id": notification.login_id,
        "administrator_login_id": notification.administrator_login_id,
        "occurred_at": notification.created_at,
        "reference": notification.pk,
    }


def _render(name: str, context: dict) -> str:
    return get_template(name).template.render(Context(context, autoescape=False))
