"""The console frame: menu, support contact, language switch."""

import re

from django.urls import reverse

from azukeru.menu import MENU

CONSOLE = reverse("accounts:console")
GUIDE_MENU = [
    "環境設定",
    "利用者ID管理",
    "端末認証キー管理",
    "AMSライセンス管理",
    "マイナンバー権限管理",
    "アクセス設定",
    "ログ管理",
]


def menu_html(page: str) -> str:
    return re.search(r'<details class="menu">.*?</details>', page, re.S).group(0)


def test_menu_lists_the_guides_items_in_its_order(admin_client_a):
    menu = menu_html(admin_client_a.get(CONSOLE).content.decode())
    positions = [menu.index(label) for label in GUIDE_MENU]
    assert positions == sorted(positions)


def test_unbuilt_items_are_disabled_not_dead_links(admin_client_a):
    menu = menu_html(admin_client_a.get(CONSOLE).content.decode())
    for label, url_name in MENU:
        if url_name is None:
            assert re.search(rf'<span class="menu-disabled" aria-disabled="true">{label}', menu)
    assert 'href="#"' not in menu


def test_frame_names_the_signed_in_administrator_and_support_contact(admin_client_a, settings):
    page = admin_client_a.get(CONSOLE).content.decode()
    assert "admin-a" in page
    assert settings.SUPPORT_PHONE in page
    assert "フレッツ・あずけ～る PRO" in page and "午前9:00～午後9:00" in page


def test_the_frame_is_in_the_language_of_the_page(admin_client_a, settings):
    admin_client_a.cookies["django_language"] = "en"
    page = admin_client_a.get(CONSOLE).content.decode()
    assert "FLET&#x27;S Azukeru PRO" in page and "FLET&#x27;S Azukeru Contact Center" in page
    assert "9:00 a.m. to 9:00 p.m." in page and "フレッツ" not in page


def test_an_operators_own_words_and_their_english(admin_client_a, settings):
    settings.SERVICE_NAME, settings.SERVICE_NAME_EN = "社内ストレージ", "Company Storage"
    assert "社内ストレージ" in admin_client_a.get(CONSOLE).content.decode()
    admin_client_a.cookies["django_language"] = "en"
    assert "Company Storage" in admin_client_a.get(CONSOLE).content.decode()


def test_login_page_has_no_menu(client, db):
    assert '<details class="menu">' not in client.get(reverse("accounts:login")).content.decode()


def test_pages_load_no_external_assets(admin_client_a):
    page = admin_client_a.get(CONSOLE).content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_japanese_is_the_default_language(admin_client_a):
    page = admin_client_a.get(CONSOLE).content.decode()
    assert '<html lang="ja">' in page
    assert "管理メニュー" in page


def test_language_switch_to_english_and_back(admin_client_a):
    response = admin_client_a.post(reverse("set_language"), {"language": "en", "next": CONSOLE})
    assert response.url == CONSOLE
    page = admin_client_a.get(CONSOLE).content.decode()
    assert '<html lang="en">' in page
    assert "User ID management" in page
    assert "利用者ID管理" not in page

    admin_client_a.post(reverse("set_language"), {"language": "ja", "next": CONSOLE})
    assert "利用者ID管理" in admin_client_a.get(CONSOLE).content.decode()


def test_security_headers_on_every_page(client, db):
    response = client.get(reverse("accounts:login"))
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_missing_page_is_the_framed_404(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()
