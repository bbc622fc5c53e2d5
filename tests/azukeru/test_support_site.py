"""The support site (/support/, Django admin) names every app, model and field in
Japanese by default and in English when support staff switch the language, the
models of django-axes and django-tasks-db included."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from tests.conftest import login_verified

SUPPORT = reverse("admin:index")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SAME_IN_BOTH = {"id"}  # Django's own name of a primary key ("ID")


def names_on_the_support_site() -> list[tuple[str, object]]:
    """(where, name) of every app, model and field of the support site's models."""
    names = []
    for model in admin.site._registry:
        meta = model._meta
        names += [
            (meta.app_label, apps.get_app_config(meta.app_label).verbose_name),
            (meta.label, meta.verbose_name),
            (f"{meta.label} (plural)", meta.verbose_name_plural),
        ]
        names += [
            (f"{meta.label}.{field.name}", field.verbose_name)
            for field in meta.get_fields()
            if hasattr(field, "verbose_name")
        ]
    return names


def test_every_name_is_japanese_by_default_and_english_in_english():
    with translation.override("ja"):
        not_japanese = [
            (where, str(name))
            for where, name in names_on_the_support_site()
            if not JAPANESE.search(str(name)) and str(name).lower() not in SAME_IN_BOTH
        ]
    with translation.override("en"):
        not_english = [
            (where, str(name))
            for where, name in names_on_the_support_site()
            if JAPANESE.search(str(name))
        ]
    assert not_japanese == []
    assert not_english == []


@pytest.fixture
def support_client(client, support_staff):
    login_verified(client, support_staff)
    return client


def in_language(client, language: str):
    client.post(reverse("set_language"), {"language": language, "next": SUPPORT})
    return client


def title(page: str) -> str:
    return re.search(r"<title>(.*?) \|", page).group(1)


@pytest.mark.parametrize(
    "changelist, japanese, english",
    [
        ("accounts_user", "変更する 利用者 を選択", "Select user to change"),
        (
            "devicekeys_devicekey",
            "表示する端末認証キーを選択",
            "Select device authentication key to view",
        ),
        ("audit_auditentry", "表示する操作ログを選択", "Select audit log entry to view"),
        ("axes_accessattempt", "変更する ログインの試行 を選択", "Select access attempt to change"),
        (
            "django_tasks_database_dbtaskresult",
            "表示するタスクの実行結果を選択",
            "Select Task Result to view",
        ),
    ],
)
def test_a_lists_title_is_japanese_by_default_and_english_with_the_language_set(
    support_client, changelist, japanese, english
):
    url = reverse(f"admin:{changelist}_changelist")
    assert title(support_client.get(url).text) == japanese
    assert title(in_language(support_client, "en").get(url).text) == english


def test_the_index_names_the_apps_and_models_in_the_language_chosen(support_client):
    page = support_client.get(SUPPORT).text
    for words in [
        "ログインの試行（django-axes）",
        "タスク（django-tasks-db）",
        "端末認証キー",
        "通知メール",
    ]:
        assert words in page
    page = in_language(support_client, "en").get(SUPPORT).text
    for words in [
        "Sign-in attempts (django-axes)",
        "Tasks (django-tasks-db)",
        "Device authentication keys",
        "Audit log entries",
        "Users",
    ]:
        assert words in page
    assert not JAPANESE.search(re.sub(r"<option[^>]*>[^<]*</option>", "", page))
