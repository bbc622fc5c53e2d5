"""What tests read out of a mail."""

import re

from django.conf import settings

LINK = re.compile(r"https?://\S+")


def links_in(body: str) -> list[str]:
    return LINK.findall(body)


def link_in(mail) -> str:
    """The path of the mail's link, which leads to the console's own address (SITE_URL)."""
    link = LINK.search(mail.body).group(0)
    assert link.startswith(settings.SITE_URL + "/"), link
    return link.removeprefix(settings.SITE_URL)
