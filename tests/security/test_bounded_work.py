"""Every rule's work is bounded by its input's length (hostile input, round two): the
length is checked first and a value over it reaches no other rule; the common-word
rule looks up a number of substrings linear in the password's length; the CSV
reader refuses an over-long field at its line, before any rule reads it; and a
running import's lease does not run out while its worker holds it. The work is
counted, not timed."""

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import password_validation, services
from accounts.models import ImportJob, ImportStatus
from csvimport import format as csv_format
from csvimport import tasks
from csvimport.services import user_import
from tests.conftest import SETUP, task_backend
from tests.csvimport.csvfiles import csv_bytes

LONG = 130_000  # a field as long as the CSV reader can read (its limit is 131,072)


class CountingWords(frozenset):
    """The common-word list, counting the lookups made in it."""

    lookups = 0

    def __contains__(self, item):
        type(self).lookups += 1
        return super().__contains__(item)


@pytest.fixture
def lookups(monkeypatch):
    """How many substrings the common-word rule has looked up (every path)."""
    words = CountingWords(password_validation.common_english_words())
    CountingWords.lookups = 0
    monkeypatch.setattr(password_validation, "common_english_words", lambda: words)
    return lambda: CountingWords.lookups


def naive_common_word(password: str) -> str | None:
    """Every substring of 4+ letters, as the rule once read them (the reference)."""
    words = password_validation.common_english_words()
    lowered = password.lower()
    for start in range(len(lowered)):
        for end in range(start + 4, len(lowered) + 1):
            if lowered[start:end] in words:
                return lowered[start:end]
    return None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzAEIOU#1!x"), max_size=60))
def test_the_common_word_scan_finds_what_every_substring_would(password):
    assert password_validation.find_common_word(password) == naive_common_word(password)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=4000))
def test_the_common_word_scan_is_linear_in_the_length(password):
    words = CountingWords(password_validation.common_english_words())
    CountingWords.lookups = 0
    password_validation.find_common_word(password, words=words)
    assert CountingWords.lookups <= len(password) * len(password_validation.common_word_lengths())


def test_a_130000_character_password_costs_a_linear_scan():
    words = CountingWords(password_validation.common_english_words())
    CountingWords.lookups = 0
    password_validation.find_common_word("#1" * (LONG // 2), words=words)
    lengths = len(password_validation.common_word_lengths())
    assert CountingWords.lookups <= LONG * lengths  # the old scan: about LONG² / 2


def test_a_password_over_the_length_gets_only_that_error_and_no_other_rule_reads_it(
    contract_a, lookups
):
    user = services.user_candidate(contract_a, login_id="sato01", email="s@example.jp")
    errors = services.user_field_errors(user, password="#1" * (LONG // 2))
    assert [error.code for error in errors["password"]] == ["password_length"]
    assert lookups() == 0


@pytest.mark.parametrize(
    ("field", "code"),
    [("login_id", "login_id_length"), ("display_name", "max_length"), ("email", "max_length")],
)
def test_a_field_over_its_length_gets_only_that_error(contract_a, field, code):
    values = {"login_id": "sato01", "email": "s@example.jp", field: "a" * LONG}
    if field == "email":
        values["email"] = "a" * LONG + "@example.jp"
    user = services.user_candidate(contract_a, **values)
    errors = services.user_field_errors(user, password=None)
    assert [error.code for error in errors[field]] == [code]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=50_000))
def test_no_length_of_password_makes_the_rules_read_it_more_than_once(length):
    user_id = services.user_candidate(None, login_id="sato01", email="s@example.jp")
    words = CountingWords(password_validation.common_english_words())
    CountingWords.lookups = 0
    original = password_validation.common_english_words
    password_validation.common_english_words = lambda: words
    try:
        services.user_field_errors(user_id, password="x1" * (length // 2))
    finally:
        password_validation.common_english_words = original
    longest_read = password_validation.MAX_LENGTH
    assert CountingWords.lookups <= longest_read * len(password_validation.common_word_lengths())


def test_the_csv_reader_refuses_an_over_long_field_at_its_line(contract_a, lookups):
    content = csv_bytes(
        [
            ("sato01", "Hn5vRt2Wq8", "s@example.jp"),
            ("tanaka01", "#1" * (LONG // 2), "t@example.jp"),
            ("x" * LONG, "Hn5vRt2Wq8", "x@example.jp"),
        ]
    )
    result = user_import(contract=contract_a, actor=SETUP, content=content, dry_run=True)
    too_long = [(p.line, p.column) for p in result.problems if "長すぎます" in p.text()]
    assert too_long == [(2, "password"), (3, "login_id")]
    assert all(len(p.login_id) <= 61 for p in result.problems)  # the report stays small
    assert lookups() <= 32 * len(password_validation.common_word_lengths())  # line 1 only


def test_a_mebibyte_of_the_longest_fields_is_checked_without_reading_them(contract_a, lookups):
    rows = [(f"u{n:05d}", "#1" * (LONG // 2), f"u{n}@example.jp") for n in range(8)]
    content = csv_bytes(rows)
    assert len(content) > 1_000_000
    assert len(content) <= csv_format.MAX_BYTES
    result = user_import(contract=contract_a, actor=SETUP, content=content, dry_run=True)
    assert [p.column for p in result.problems] == ["password"] * 8
    assert lookups() == 0


# --- The import job's lease ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_lease_of_a_running_import_is_kept_while_its_worker_works(
    admin_a, monkeypatch, settings
):
    """A step that takes longer than a progress write (one slow line, the final
    transaction) still beats: the heartbeat does not wait for the import."""
    settings.TASKS = task_backend("django_tasks.backends.dummy.DummyBackend")
    monkeypatch.setattr(tasks, "HEARTBEAT_INTERVAL", 0.02)
    job = tasks.import_job_start(
        contract=admin_a.contract,
        actor=admin_a,
        file_name="a.csv",
        content=csv_bytes([("sato01", "Hn5vRt2Wq8", "s@example.jp")]),
        dry_run=True,
    )
    beats = []
    real_import = tasks.user_import

    def slow_import(**kwargs):
        started = ImportJob.objects.get(pk=job.pk).heartbeat_at
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # no progress written meanwhile
            beat = ImportJob.objects.get(pk=job.pk).heartbeat_at
            if beat > started:
                beats.append(beat)
            if len(beats) >= 3:
                break
            time.sleep(0.01)
        return real_import(**kwargs)

    monkeypatch.setattr(tasks, "user_import", slow_import)
    assert tasks.import_job_run(job_id=job.pk) == ImportStatus.SUCCEEDED
    assert len(beats) >= 3
    assert not any(thread.name.endswith("-heartbeat") for thread in threading.enumerate())
