"""The service name and the support contact of the guide's back page, from settings:
shown in the frame of every page and at the end of every mail, in the language of
the page or mail."""

from django.conf import settings
from django.utils.translation import get_language


def localized(name: str) -> str:
    """The setting `name` in the active language: the operator's NAME_EN on English
    pages when one is set, otherwise NAME (by default the guide's words, translated)."""
    english = getattr(settings, f"{name}_EN", "")
    if english and (get_language() or "").startswith("en"):
        return english
    return str(getattr(settings, name))


def service_name() -> str:
    return localized("SERVICE_NAME")


def support_contact() -> dict:
    return {
        "name": localized("SUPPORT_CONTACT_NAME"),
        "phone": settings.SUPPORT_PHONE,
        "hours": localized("SUPPORT_HOURS"),
    }
