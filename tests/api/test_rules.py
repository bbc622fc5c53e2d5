"""The lifecycle of an app registration (api.rules), exhaustively: every event, kind
and state."""

import itertools

import pytest

from api import rules
from api.rules import Event, Kind, State
from devicekeys.rules import REFUSAL_MESSAGES, Refusal

ALL = list(itertools.product(Event, Kind, State))

# What each event does to a registration that is in use, by kind (None: nothing).
EXPECTED_FROM_ACTIVE = {
    Event.KEY_STOPPED: {Kind.KEY: State.SUSPENDED, Kind.ACCOUNT: None},
    Event.KEY_UNSTOPPED: {Kind.KEY: None, Kind.ACCOUNT: None},
    Event.KEY_REISSUED: {Kind.KEY: State.ENDED, Kind.ACCOUNT: None},
    Event.KEY_DELETED: {Kind.KEY: State.ENDED, Kind.ACCOUNT: None},
    # The key-bound token survives a password change: the device proved its key.
    Event.PASSWORD_CHANGED: {Kind.KEY: None, Kind.ACCOUNT: State.ENDED},
    Event.PASSWORD_RESET: {Kind.KEY: None, Kind.ACCOUNT: State.ENDED},
    Event.ACCOUNT_DELETED: {Kind.KEY: State.ENDED, Kind.ACCOUNT: State.ENDED},
    Event.KEY_REQUIRED: {Kind.KEY: None, Kind.ACCOUNT: State.ENDED},
    Event.APP_SIGNED_OUT: {Kind.KEY: State.ENDED, Kind.ACCOUNT: State.ENDED},
    Event.ENDED_BY_ADMINISTRATOR: {Kind.KEY: State.ENDED, Kind.ACCOUNT: State.ENDED},
    Event.ENDED_BY_USER: {Kind.KEY: State.ENDED, Kind.ACCOUNT: State.ENDED},
    Event.SIGNED_OUT_EVERYWHERE: {Kind.KEY: State.ENDED, Kind.ACCOUNT: State.ENDED},
    # A refresh token used twice: whoever holds the newer one, the registration ends.
    Event.REFRESH_TOKEN_REUSED: {Kind.KEY: State.ENDED, Kind.ACCOUNT: State.ENDED},
}


def test_the_table_names_every_event():
    assert set(EXPECTED_FROM_ACTIVE) == set(Event)


@pytest.mark.parametrize(("event", "kind"), list(itertools.product(Event, Kind)))
def test_what_each_event_does_to_a_registration_in_use(event, kind):
    assert rules.after(event, kind, State.ACTIVE) == EXPECTED_FROM_ACTIVE[event][kind]


@pytest.mark.parametrize(("event", "kind"), list(itertools.product(Event, Kind)))
def test_ended_is_for_good(event, kind):
    assert rules.after(event, kind, State.ENDED) is None
    assert State.ENDED not in rules.reached(event, kind)


@pytest.mark.parametrize("event", list(Event))
def test_a_suspended_registration_ends_as_an_active_one_would_and_only_unstop_resumes(event):
    expected = {
        Event.KEY_STOPPED: None,  # already
        Event.KEY_UNSTOPPED: State.ACTIVE,
    }.get(event, EXPECTED_FROM_ACTIVE[event][Kind.KEY])
    assert rules.after(event, Kind.KEY, State.SUSPENDED) == expected


def test_a_login_id_token_is_never_suspended():
    assert all(
        rules.after(event, Kind.ACCOUNT, state) != State.SUSPENDED
        for event in Event
        for state in State
    )


def test_device_authentication_switched_on_ends_a_login_id_token_for_good():
    ended = rules.after(Event.KEY_REQUIRED, Kind.ACCOUNT, State.ACTIVE)
    # Nothing brings it back: switching device authentication off is no event at all,
    # and no event moves an ended registration.
    assert ended == State.ENDED
    assert not any(rules.after(event, Kind.ACCOUNT, ended) for event in Event)


@pytest.mark.parametrize(("event", "kind", "state"), ALL)
def test_reached_and_after_agree(event, kind, state):
    assert (state in rules.reached(event, kind)) == (rules.after(event, kind, state) is not None)


@pytest.mark.parametrize(("event", "state"), list(itertools.product(Event, State)))
def test_the_reason_is_kept_unless_in_use(event, state):
    assert rules.reason_after(event, state) == ("" if state == State.ACTIVE else event.value)


def test_only_a_registration_not_yet_ended_can_be_ended():
    assert [state for state in State if rules.can_end(state)] == [State.ACTIVE, State.SUSPENDED]


# --- GET /api/device/status ------------------------------------------------------------


def test_an_active_registration_is_told_active_while_its_login_id_is():
    assert rules.told(State.ACTIVE, "", account_active=True) == ("active", rules.ACTIVE_MESSAGE)
    assert rules.told(State.ACTIVE, "", account_active=False) == (
        "invalid",
        REFUSAL_MESSAGES[Refusal.ACCOUNT_GONE],
    )
    assert rules.opens(State.ACTIVE, account_active=True)
    assert not rules.opens(State.ACTIVE, account_active=False)
    assert not rules.opens(State.SUSPENDED, account_active=True)
    assert not rules.opens(State.ENDED, account_active=True)


@pytest.mark.parametrize(
    ("event", "word", "message"),
    [
        (Event.KEY_STOPPED, "stopped", REFUSAL_MESSAGES[Refusal.STOPPED]),
        (Event.KEY_REISSUED, "reissued", REFUSAL_MESSAGES[Refusal.REISSUED]),
        (Event.KEY_DELETED, "deleted", REFUSAL_MESSAGES[Refusal.DELETED]),
        (Event.ACCOUNT_DELETED, "deleted", REFUSAL_MESSAGES[Refusal.ACCOUNT_GONE]),
        (Event.KEY_REQUIRED, "invalid", REFUSAL_MESSAGES[Refusal.KEY_REQUIRED]),
        (Event.PASSWORD_CHANGED, "password_changed", None),
        (Event.PASSWORD_RESET, "password_changed", None),
        (Event.ENDED_BY_ADMINISTRATOR, "signed_out", None),
        (Event.ENDED_BY_USER, "signed_out", None),
        (Event.SIGNED_OUT_EVERYWHERE, "signed_out", None),
    ],
)
def test_each_reason_is_told_in_its_words(event, word, message):
    state = State.SUSPENDED if event == Event.KEY_STOPPED else State.ENDED
    told_word, told_message = rules.told(state, event.value, account_active=True)
    assert told_word == word
    assert told_message == (
        message
        or rules.ENDED_MESSAGES[Event.PASSWORD_CHANGED if event == Event.PASSWORD_RESET else event]
    )


def test_every_reason_a_registration_can_keep_is_told_or_deliberately_untold():
    afters = [(event, rules.after(event, kind, state)) for event, kind, state in ALL]
    kept = {
        Event(rules.reason_after(event, after))
        for event, after in afters
        if after not in (None, State.ACTIVE)
    }
    assert kept <= set(rules.TOLD) | rules.UNTOLD
    assert rules.told(State.ENDED, Event.APP_SIGNED_OUT, account_active=True) is None
