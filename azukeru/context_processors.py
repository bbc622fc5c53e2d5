from django.urls import reverse

from azukeru.menu import MENU
from core.support import service_name, support_contact


def console(request):
    """What the frame shows on every page: service name, support contact, menu."""
    return {
        "service_name": service_name(),
        "support": support_contact(),
        "console_menu": [
            {"label": label, "url": reverse(url_name) if url_name else None}
            for label, url_name in MENU
        ],
    }
