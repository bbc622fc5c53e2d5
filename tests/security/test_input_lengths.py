"""Every input tells the browser its field's own limit, and a longer value is refused
with that limit, never cut (hostile or pasted input)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.forms import SignInForm, UserForm, UserSearchForm
from accounts.password_validation import MAX_LENGTH as PASSWORD_MAX_LENGTH
from accounts.settings_forms import EmailChangeForm, PasswordResetRequestForm
from accounts.user_forms import ProfileForm
from accounts.validators import LOGIN_ID_MAX_LENGTH
from audit.forms import AuditFilterForm
from devicekeys.forms import KeyFilterForm, KeyRenameForm
from tests.conftest import PASSWORD
from tests.devicekeys.browser import signed_in_user
from tests.security.test_matrix import FACTOR_PATTERNS, PATTERNS, filled_url
from twostep.forms import CodeForm, PasskeyNameForm

TEXT_TYPES = {"text", "search", "email", "password", "tel", "url"}
# Fields that check a password the account already has: they take it as it is, so
# that no length rule (one set later, or support's) locks anyone out, and cut nothing.
PASSWORD_CHECKS = {"password", "current_password"}
INPUT = re.compile(r"<input\b[^>]*>|<textarea\b[^>]*>")


def text_inputs(page: str) -> list[str]:
    inputs = []
    for tag in INPUT.findall(page):
        kind = re.search(r'type="(\w+)"', tag)
        if tag.startswith("<textarea") or (kind and kind.group(1) in TEXT_TYPES):
            inputs.append(tag)
    return inputs


def missing_maxlength(page: str) -> list[str]:
    return [
        tag
        for tag in text_inputs(page)
        if "maxlength=" not in tag
        and re.search(r'name="(\w+)"', tag).group(1) not in PASSWORD_CHECKS
    ]


def maxlength_of(page: str, name: str) -> int:
    tag = next(t for t in text_inputs(page) if f'name="{name}"' in t)
    return int(re.search(r'maxlength="(\d+)"', tag).group(1))


@pytest.mark.parametrize(
    ("name", "route", "kwargs"),
    PATTERNS + FACTOR_PATTERNS,
    ids=[p[0] for p in PATTERNS + FACTOR_PATTERNS],
)
def test_every_text_input_of_the_console_has_a_maxlength(
    name, route, kwargs, admin_client_a, contract_a, make_user
):
    response = admin_client_a.get(filled_url(name, kwargs, contract_a, make_user))
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return  # a redirect, a download, JSON: no input
    assert missing_maxlength(response.content.decode()) == []


@pytest.mark.parametrize("name", ["accounts:login", "accounts:password-reset"])
def test_every_text_input_of_the_public_pages_has_a_maxlength(client, db, name):
    assert missing_maxlength(client.get(reverse(name)).content.decode()) == []


@pytest.mark.parametrize("name", ["accounts:profile-edit", "accounts:password-change"])
def test_every_text_input_of_a_user_ids_pages_has_a_maxlength(users_a, name):
    page = signed_in_user(users_a[0]).get(reverse(name)).content.decode()
    assert missing_maxlength(page) == []


def test_the_limits_are_the_fields_own(admin_client_a):
    create = admin_client_a.get(reverse("accounts:user-create")).content.decode()
    assert maxlength_of(create, "login_id") == LOGIN_ID_MAX_LENGTH == 60
    assert maxlength_of(create, "password") == PASSWORD_MAX_LENGTH == 32
    assert maxlength_of(create, "password_confirm") == 32
    assert maxlength_of(create, "email") == maxlength_of(create, "email_confirm") == 254
    assert maxlength_of(create, "display_name") == 16
    assert maxlength_of(create, "phone") == 20
    users = admin_client_a.get(reverse("accounts:user-list")).content.decode()
    assert maxlength_of(users, "q") == 254  # a mail address, the longest field searched
    sign_in = Client().get(reverse("accounts:login")).content.decode()
    assert maxlength_of(sign_in, "username") == 60
    reset = Client().get(reverse("accounts:password-reset")).content.decode()
    assert maxlength_of(reset, "login_id") == 60


# (form, field, other data the form needs)
LIMITED_FIELDS = [
    (SignInForm, "username", {"password": "x"}),
    (UserForm, "login_id", {}),
    (UserForm, "email", {}),
    (UserForm, "email_confirm", {}),
    (UserForm, "display_name", {}),
    (UserForm, "title", {}),
    (UserForm, "department", {}),
    (UserForm, "phone", {}),
    (UserSearchForm, "q", {}),
    (EmailChangeForm, "email", {}),
    (EmailChangeForm, "email_confirm", {}),
    (PasswordResetRequestForm, "login_id", {}),
    (ProfileForm, "nickname", {}),
    (KeyFilterForm, "login_id", {}),
    (KeyRenameForm, "device_name", {}),
    (AuditFilterForm, "login_id", {}),
    (CodeForm, "code", {}),
    (PasskeyNameForm, "name", {}),
]


def make_form(form_class, data):
    if form_class is SignInForm:
        return form_class(None, data)
    return form_class(data)


@pytest.mark.django_db  # the sign-in form asks the throttle (none of it applies here)
@pytest.mark.parametrize(
    ("form_class", "field", "other"),
    LIMITED_FIELDS,
    ids=[f"{f.__name__}.{name}" for f, name, _ in LIMITED_FIELDS],
)
@settings(max_examples=15, deadline=None)
@given(beyond=st.integers(min_value=1, max_value=5_000), char=st.sampled_from("a1-検😀"))
def test_a_value_over_the_limit_is_refused_with_the_limit_the_input_shows(
    form_class, field, other, beyond, char
):
    limit = int(make_form(form_class, {})[field].field.widget.attrs["maxlength"])
    value = char * (limit + beyond)
    form = make_form(form_class, {**other, field: value})
    assert not form.is_valid()
    messages = " ".join(form.errors[field])
    assert str(limit) in messages and str(limit + beyond) in messages


def test_a_password_over_the_rule_is_refused_with_the_rules_words(admin_client_a, contract_a):
    long_password = "Kx7mQ2vR9w" * 5
    response = admin_client_a.post(
        reverse("accounts:user-create"),
        {
            "login_id": "long-password",
            "password": long_password,
            "password_confirm": long_password,
            "email": "long@example.jp",
            "email_confirm": "long@example.jp",
            "step": "confirm",
        },
    )
    assert "パスワードは8文字以上32文字以内で入力してください。" in response.text
    assert not contract_a.members.filter(login_id="long-password").exists()


def test_a_sign_in_takes_the_password_as_it_is(users_a):
    """No length is applied to a password being checked: a wrong one of any length is
    the one answer for a wrong password."""
    page = signed_in_user(users_a[0])
    assert page.get(reverse("accounts:user-home")).status_code == 200
    response = page.post(
        reverse("accounts:password-change"),
        {"current_password": PASSWORD * 20, "password": "x", "password_confirm": "x"},
    )
    assert "現在のパスワードが正しくありません。" in response.text


def test_a_search_over_its_limit_is_refused_beside_the_box(admin_client_a, users_a):
    response = admin_client_a.get(reverse("accounts:user-list"), {"q": "検" * 255})
    assert response.status_code == 200
    assert "この値は 254 文字以下でなければなりません( 255 文字になっています)。" in response.text
    assert users_a[0].login_id in response.text  # the list, unsearched
