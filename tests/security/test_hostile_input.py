"""Hostile input: whatever text arrives, the rules answer with a ValidationError
or accept it; they never raise anything else and never accept what the guide
forbids."""

import string
from itertools import pairwise

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.password_validation import find_run
from accounts.validators import LOGIN_ID_CHARACTERS, validate_login_id, validate_phone

# Full-width forms, zero-width and bidirectional controls, surrogate escapes, NUL.
TRICKY = st.sampled_from(
    ["Ａ", "１", "\u200b", "\u200e", "\u202e", "\ufeff", "\udcff", "\x00", "　", "é", "ß", "İ"]
)
ANY_TEXT = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), TRICKY, st.sampled_from("\udc80\udcfe")),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_login_id_rule_accepts_only_half_width_ascii_of_4_to_60(value):
    try:
        validate_login_id(value)
    except ValidationError:
        return
    assert 4 <= len(value) <= 60
    assert LOGIN_ID_CHARACTERS.fullmatch(value)
    assert value.isascii()


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_phone_rule_accepts_only_digits_plus_and_minus(value):
    try:
        validate_phone(value)
    except ValidationError:
        return
    assert set(value) <= set("0123456789+-")


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.text(alphabet=string.ascii_letters + string.digits, min_size=4, max_size=12))
def test_password_rules_never_crash_and_never_accept_what_the_guide_forbids(password, login_id):
    try:
        validate_password(password, User(login_id=login_id))
    except ValidationError as error:
        assert error.messages  # every refusal names its rule
        return
    assert 8 <= len(password) <= 32
    assert all("\x21" <= c <= "\x7e" for c in password)
    kinds = [
        any(c in kind for c in password)
        for kind in (string.ascii_uppercase, string.ascii_lowercase, string.digits)
    ]
    assert sum(kinds) >= 2
    assert login_id.lower() not in password.lower()
    assert find_run(password) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=4, max_size=32))
def test_a_run_found_is_really_a_run(password):
    run = find_run(password)
    if run is None:
        return
    lowered = run.lower()
    steps = {ord(b) - ord(a) for a, b in pairwise(lowered)}
    assert steps in ({0}, {1}, {-1})
    assert run in password
