"""Links in mails lead to SITE_URL, whatever Host a request names.

A request's Host header is the client's to choose: a password-reset link built from it
would carry its token to the attacker's host once the victim clicks. Here every mail
with a link is caused by requests naming a hostile host (let through ALLOWED_HOSTS, as
a proxy passing any Host would), and every link of every mail starts with SITE_URL.
"""

from django.test import Client
from django.urls import reverse

from notifications import kinds
from tests.conftest import login_verified
from tests.mail import links_in

HOSTILE = "evil.example:666"


def test_a_hostile_host_header_never_reaches_a_mailed_link(
    settings, admin_a, users_a, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = [".evil.example", "testserver"]
    settings.SITE_URL = "https://console.example.jp"
    attacker = Client(HTTP_HOST=HOSTILE)
    administrator = login_verified(Client(HTTP_HOST=HOSTILE), admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        reset = attacker.post(reverse("accounts:password-reset"), {"login_id": "taro-a"})
        changed = administrator.post(
            reverse("accounts:settings-email"),
            {"email": "new-a@example.jp", "email_confirm": "new-a@example.jp"},
        )
    assert reset.status_code == 200 and changed.status_code == 302

    subjects = {mail.subject for mail in mailoutbox}
    links = [link for mail in mailoutbox for link in links_in(mail.body)]
    assert len(links) == 2, subjects  # the reset link and the confirmation link
    assert all(link.startswith("https://console.example.jp/") for link in links), links
    assert not any("evil.example" in mail.body for mail in mailoutbox)


def test_no_mail_template_writes_an_address_of_its_own(settings):
    """Only the kinds of mail that take a `link` (built on SITE_URL by the services)
    carry one: no template builds a URL itself."""
    with_link = {kind for kind, context in kinds.CONTEXT.items() if "link" in context}
    assert with_link == {kinds.PASSWORD_RESET, kinds.EMAIL_CHANGE_CONFIRM}
    templates = settings.BASE_DIR / "templates"
    for path in templates.glob("*/email/**/*.txt"):
        text = path.read_text()
        assert "http" not in text and "{% url" not in text, path
