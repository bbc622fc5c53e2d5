"""The pure rules of device keys: key format, masking, device names, and every
allowed and refused status transition."""

import string
from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from devicekeys import rules
from devicekeys.exceptions import InvalidTransition
from devicekeys.rules import (
    GONE,
    IN_USE,
    INVALID,
    NEW,
    STOPPED_IN_USE,
    STOPPED_NEW,
    Action,
    By,
    KeyState,
    Status,
)

# --- The key ------------------------------------------------------------------------


LOOK_ALIKES = set("0O1Il")


def test_a_key_is_eight_letters_or_digits_without_look_alikes():
    for _ in range(2000):
        key = rules.generate_key()
        assert len(key) == 8
        assert set(key) <= set(string.ascii_letters + string.digits) - LOOK_ALIKES
        assert rules.is_well_formed_key(key)


def test_keys_use_every_letter_and_digit_but_the_look_alikes():
    seen = Counter("".join(rules.generate_key() for _ in range(3000)))
    assert set(seen) == set(string.ascii_letters + string.digits) - LOOK_ALIKES
    assert len(seen) == 57


def test_keys_do_not_repeat():
    keys = [rules.generate_key() for _ in range(20000)]
    assert len(set(keys)) == len(keys)


def test_keys_are_drawn_with_secrets(monkeypatch):
    monkeypatch.setattr(rules.secrets, "choice", lambda alphabet: "Q")
    assert rules.generate_key() == "QQQQQQQQ"


# The guide's keys hold look-alikes, as keys issued before may: they can still be entered.
@pytest.mark.parametrize("value", ["KkeJ8cZG", "736oljo1", "wYb0a9IN", "0O1Il0O1"])
def test_the_guides_example_keys_are_well_formed(value):
    assert rules.is_well_formed_key(value)


@pytest.mark.parametrize("value", ["", "KkeJ8cZ", "KkeJ8cZG1", "KkeJ8cZ-", "KkeJ 8cZ", "ＫkeJ8cZG"])
def test_malformed_keys(value):
    assert not rules.is_well_formed_key(value)


def test_a_registered_key_shows_only_its_last_two_characters():
    assert rules.key_suffix("KkeJ8cZG") == "ZG"
    assert rules.masked_key("ZG") == "******ZG"


# --- The device name ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Chrome", "Chrome"),
        ("  Chrome-16 ", "Chrome-16"),
        ("経理部の<PC>", "経理部の<PC>"),
        ("x" * 32, "x" * 32),
    ],
)
def test_device_names_are_trimmed(value, cleaned):
    assert rules.clean_device_name(value) == cleaned


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "device_name_required", "端末名を入力してください。"),
        ("   ", "device_name_required", "端末名を入力してください。"),
        ("x" * 33, "device_name_length", "端末名は32文字以内で入力してください（現在33文字）。"),
        ("あ" * 40, "device_name_length", "端末名は32文字以内で入力してください（現在40文字）。"),
        ("two\nlines", "device_name_characters", "制御文字"),
    ],
)
def test_bad_device_names(value, code, message):
    with pytest.raises(ValidationError) as error:
        rules.clean_device_name(value)
    assert error.value.code == code
    assert message in error.value.messages[0]


# --- The state machine --------------------------------------------------------------

# Written out independently of rules.TRANSITIONS: (action, state before) -> after.
EXPECTED = {
    (Action.ISSUE, GONE): NEW,
    (Action.RENAME, NEW): NEW,
    (Action.RENAME, IN_USE): IN_USE,
    (Action.RENAME, STOPPED_NEW): STOPPED_NEW,
    (Action.RENAME, STOPPED_IN_USE): STOPPED_IN_USE,
    (Action.RENAME, INVALID): INVALID,
    (Action.REISSUE, NEW): NEW,
    (Action.REISSUE, IN_USE): NEW,
    (Action.REISSUE, STOPPED_NEW): NEW,
    (Action.REISSUE, STOPPED_IN_USE): NEW,
    (Action.REISSUE, INVALID): NEW,
    (Action.STOP, NEW): STOPPED_NEW,
    (Action.STOP, IN_USE): STOPPED_IN_USE,
    (Action.UNSTOP, STOPPED_NEW): NEW,
    (Action.UNSTOP, STOPPED_IN_USE): IN_USE,
    (Action.DELETE, NEW): GONE,
    (Action.DELETE, IN_USE): GONE,
    (Action.DELETE, STOPPED_NEW): GONE,
    (Action.DELETE, STOPPED_IN_USE): GONE,
    (Action.DELETE, INVALID): GONE,
    (Action.REGISTER, NEW): IN_USE,
    (Action.MARK_INVALID, NEW): INVALID,
}
ADMINISTRATOR_ACTIONS = {
    Action.ISSUE,
    Action.RENAME,
    Action.REISSUE,
    Action.STOP,
    Action.UNSTOP,
    Action.DELETE,
}
SIGN_IN_ACTIONS = {Action.REGISTER, Action.MARK_INVALID}
ALL_STATES = [GONE, NEW, IN_USE, STOPPED_NEW, STOPPED_IN_USE, INVALID]
EVERY_CASE = [(action, state, by) for action in Action for state in ALL_STATES for by in By]


def _may(action, by):
    return action in (ADMINISTRATOR_ACTIONS if by == By.ADMINISTRATOR else SIGN_IN_ACTIONS)


def test_every_action_has_exactly_one_kind_of_caller():
    assert set(Action) == ADMINISTRATOR_ACTIONS | SIGN_IN_ACTIONS
    assert not ADMINISTRATOR_ACTIONS & SIGN_IN_ACTIONS


@pytest.mark.parametrize(
    ("action", "state", "by"),
    [case for case in EVERY_CASE if (case[0], case[1]) in EXPECTED and _may(case[0], case[2])],
)
def test_allowed_transition(action, state, by):
    assert rules.allowed(action, state, by=by)
    assert rules.apply(action, state, by=by) == EXPECTED[(action, state)]


@pytest.mark.parametrize(
    ("action", "state", "by"),
    [
        case
        for case in EVERY_CASE
        if (case[0], case[1]) not in EXPECTED or not _may(case[0], case[2])
    ],
)
def test_refused_transition(action, state, by):
    assert not rules.allowed(action, state, by=by)
    with pytest.raises(InvalidTransition):
        rules.apply(action, state, by=by)


def test_the_rules_know_no_transition_beyond_the_expected_ones():
    assert rules.TRANSITIONS == EXPECTED


def test_every_state_is_one_the_guide_names():
    assert {state.status for state in rules.STATES} == set(Status)
    assert Status.labels == ["利用中", "利用停止", "無効"]


def test_an_invalid_key_offers_neither_stop_nor_unstop_only_reissue():
    by = By.ADMINISTRATOR
    assert not rules.allowed(Action.STOP, INVALID, by=by)
    assert not rules.allowed(Action.UNSTOP, INVALID, by=by)
    assert rules.apply(Action.REISSUE, INVALID, by=by) == KeyState(Status.ACTIVE, False)


def test_the_administrator_cannot_register_a_key_nor_the_sign_in_flow_stop_one():
    with pytest.raises(InvalidTransition):
        rules.apply(Action.REGISTER, NEW, by=By.ADMINISTRATOR)
    with pytest.raises(InvalidTransition):
        rules.apply(Action.STOP, IN_USE, by=By.SIGN_IN)


def test_the_third_wrong_entry_makes_a_key_invalid():
    assert rules.after_wrong_entry(0) == (1, False)
    assert rules.after_wrong_entry(1) == (2, False)
    assert rules.after_wrong_entry(2) == (3, True)


# --- Device authentication at sign-in -----------------------------------------------

CHROME = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML) Chrome/130.0 Safari/537.36"


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (CHROME, "Chrome"),
        (CHROME + " Edg/130.0.0.0", "Edge"),
        (CHROME + " OPR/114.0", "Opera"),
        ("Mozilla/5.0 (Linux; Android 14) SamsungBrowser/26.0 " + CHROME, "Samsung Internet"),
        ("Mozilla/5.0 (Windows NT 10.0; rv:132.0) Gecko/20100101 Firefox/132.0", "Firefox"),
        (
            "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 CriOS/130.0 Mobile/15E148 Safari/604.1",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 FxiOS/132.0 Mobile/15E148 Safari/605.1.15",
            "Firefox",
        ),
        ("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.6 Safari/605.1.15", "Safari"),
        ("curl/8.5.0", ""),
        ("", ""),
    ],
)
def test_the_browser_is_named_from_its_user_agent(user_agent, name):
    assert rules.browser_name(user_agent) == name


def test_a_taken_name_is_numbered_like_the_guides_chrome_16():
    assert rules.free_device_name("Chrome", []) == "Chrome"
    assert rules.free_device_name("Chrome", ["Chrome"]) == "Chrome-2"
    assert rules.free_device_name("Chrome", ["Chrome", "Chrome-2", "Chrome-4"]) == "Chrome-3"
    assert rules.free_device_name("Chrome", ["chrome", "Chrome-16"]) == "Chrome"


@pytest.mark.parametrize(
    ("name", "default"),
    [("端末-1", True), ("端末-999", True), ("端末-", False), ("端末-1a", False), ("経理PC", False)],
)
def test_only_the_issue_screens_端末_n_counts_as_unnamed(name, default):
    assert rules.is_default_device_name(name) is default


def test_an_entered_key_is_read_half_width_and_trimmed_but_case_is_kept():
    assert rules.normalize_entered_key(" ＫｋｅＪ８ｃＺＧ　") == "KkeJ8cZG"
    assert rules.normalize_entered_key("kkej8czg") == "kkej8czg"


REFUSED = rules.Refusal


@pytest.mark.parametrize(
    ("state", "same", "in_browser", "expected"),
    [
        (IN_USE, True, True, None),
        (IN_USE, True, False, REFUSED.CREDENTIAL_MISSING),
        (STOPPED_IN_USE, True, True, REFUSED.STOPPED),
        (NEW, False, True, REFUSED.REISSUED),  # 再発行 cleared the registration
        (IN_USE, False, True, REFUSED.REISSUED),  # reissued, then registered elsewhere
        (STOPPED_IN_USE, False, True, REFUSED.REISSUED),
        (INVALID, False, True, REFUSED.INVALID),  # reissued, then three wrong keys
        (GONE, False, True, REFUSED.DELETED),
    ],
)
def test_why_a_signed_in_device_is_refused(state, same, in_browser, expected):
    assert rules.refusal(state, same_credential=same, credential_in_browser=in_browser) == expected


def test_an_unnamed_key_is_named_after_its_place_among_the_contracts_keys():
    assert rules.default_device_name(0) == "端末-1"
    assert rules.default_device_name(998) == "端末-999"
    assert rules.is_default_device_name(rules.default_device_name(41))
