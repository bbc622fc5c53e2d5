"""The support contact of the guide's back page, from settings: shown in the frame
of every page and at the end of every mail."""

from django.conf import settings


def support_contact() -> dict:
    return {
        "name": settings.SUPPORT_CONTACT_NAME,
        "phone": settings.SUPPORT_PHONE,
        "hours": settings.SUPPORT_HOURS,
    }
