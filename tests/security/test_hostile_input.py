"""Hostile input: whatever text arrives, the rules answer with a ValidationError
or accept it; they never raise anything else and never accept what the guide
forbids. Whatever file arrives, the CSV import reads it or refuses it (FileRejected,
a report), names only lines the file has, and creates nothing unless every line
is right."""

import codecs
import re
import string
from contextlib import contextmanager
from itertools import pairwise

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.password_validation import find_run
from accounts.validators import LOGIN_ID_CHARACTERS, validate_login_id, validate_phone
from csvimport import format as csv_format
from csvimport.format import FileRejected
from csvimport.services import user_import
from tests.conftest import SETUP
from tests.csvimport.csvfiles import GOOD, csv_bytes

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


# --- The CSV import -----------------------------------------------------------------

# What a file may hold beyond plain CSV: full-width letters and digits, zero-width,
# bidirectional and BOM characters, NUL and other controls, Unicode line breaks,
# characters only CP932 or only UTF-8 holds, and lone surrogates (written as
# surrogateescape writes them, one raw byte, or as UTF-8 would encode them).
FULL_WIDTH = ["ｔ", "Ａ", "ｚ", "１", "９", "＠", "．", "＿", "－"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202d", "\u200e"]
FILE_TRICKY = st.sampled_from(
    [
        *FULL_WIDTH,
        *INVISIBLE,
        "\x00",
        "\x1a",
        "\x7f",
        "\x85",
        "\u2028",
        "\u3000",
        "ﾃ",
        "髙",
        "①",
        "€",
        "\U0001f600",
        "\udcff",
        "\udc80",
        "\ud800",
        "\udfff",
    ]
)
CSV_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from('abcXYZ0189@.-_ ,"\r\n\t'), FILE_TRICKY, st.characters(codec="utf-8")
    ),
    max_size=40,
)
# A field as a file holds it: right or nearly right values, quoted ones, or any text.
FIELD = st.one_of(
    st.sampled_from(
        ["taro123", "Hn5vRt2Wq8", "taro@example.jp", "", " ", '"a,b"', '"x""y"', "ｔａｒｏ１２３"]
    ),
    CSV_TEXT,
)
LINE = st.lists(FIELD, min_size=1, max_size=4).map(",".join)


@st.composite
def csv_texts(draw) -> str:
    """Lines of fields, with LF, CRLF or CR line ends."""
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(draw(st.lists(LINE, min_size=1, max_size=6))) + draw(st.sampled_from(["", end]))


FILE_ENCODINGS = st.sampled_from(["utf-8", "utf-8-bom", "cp932"])
# Beyond every limit: a field longer than the csv module's (131,072) and a file
# larger than the import's (1 MiB); most examples add nothing.
PADDING = st.sampled_from([0, 0, 0, 0, 61, 255, 131_073, csv_format.MAX_BYTES + 1])


def encoded(text: str, encoding: str) -> bytes:
    """`text` as bytes of `encoding` ("utf-8-bom": with a BOM); a character the
    encoding cannot hold is written as UTF-8, a surrogate as surrogateescape or
    surrogatepass writes it."""
    bom = encoding == "utf-8-bom"
    encoding = "utf-8" if bom else encoding
    try:
        data = text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        data = b""
        for character in text:
            for codec, errors in ((encoding, "surrogateescape"), ("utf-8", "surrogatepass")):
                try:
                    data += character.encode(codec, errors)
                    break
                except UnicodeEncodeError:
                    continue
    return (codecs.BOM_UTF8 if bom else b"") + data


@st.composite
def hostile_files(draw) -> bytes:
    """Random bytes, or CSV-like text in an encoding, a run of `x` put anywhere."""
    if draw(st.integers(0, 3)) == 0:
        content = draw(st.binary(max_size=300))
    else:
        content = encoded(draw(csv_texts()), draw(FILE_ENCODINGS))
    at = draw(st.integers(0, len(content)))
    return content[:at] + b"x" * draw(PADDING) + content[at:]


def lines_of(content: bytes) -> int:
    """The lines an editor shows (LF, CRLF and CR end a line)."""
    return len(re.split(rb"\r\n|\r|\n", content))


def lines_named(message: str) -> list[int]:
    return [int(number) for number in re.findall(r"(\d+)行目", message)]


@settings(max_examples=500, deadline=None)
@given(hostile_files(), st.sampled_from(list(csv_format.ENCODINGS)))
def test_the_csv_reader_reads_or_refuses_any_file_naming_only_its_lines(content, encoding):
    try:
        parsed = csv_format.read(content, encoding)
    except FileRejected as rejected:  # the only refusal: never UnicodeError, csv.Error, ...
        assert str(rejected)
        named = lines_named(str(rejected)) + ([rejected.line] if rejected.line else [])
    else:
        assert parsed.records >= 1
        assert parsed.encoding in ("utf-8", "cp932")
        named = [line.line for line in parsed.lines]
        for problem in parsed.problems:
            named += [problem.line, *lines_named(problem.text())]
    assert all(1 <= line <= lines_of(content) for line in named), named


@contextmanager
def rolled_back():
    """One example's rows undone, so that the examples of a test share its database."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def file_with(rows: list, line: bytes, at: int, encoding: str) -> bytes:
    """The good rows as a file in `encoding`, `line` inserted before row `at`."""
    plain = "utf-8" if encoding == "utf-8-bom" else encoding
    good = csv_bytes(rows, encoding=plain).splitlines(keepends=True)
    content = b"".join([*good[:at], line + b"\n", *good[at:]])
    return (codecs.BOM_UTF8 if encoding == "utf-8-bom" else b"") + content


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(LINE.map(lambda line: encoded(line, "utf-8")), st.binary(max_size=80)),
    st.integers(0, len(GOOD)),
    FILE_ENCODINGS,
    st.sampled_from(list(csv_format.ENCODINGS)),
)
def test_a_file_with_any_bad_line_creates_no_user(contract_a, line, at, file_encoding, encoding):
    content = file_with(GOOD, line, at, file_encoding)
    with rolled_back():
        before = User.objects.count()
        result = user_import(
            contract=contract_a, actor=SETUP, content=content, encoding=encoding, dry_run=False
        )
        created = User.objects.count() - before
    if result.problems:
        assert (result.created, created) == (0, 0)
    else:  # the line was blank, or read as a right line of its own
        assert result.created == created == result.lines >= len(GOOD)
    for problem in result.problems:
        named = [problem.line or 1, *lines_named(problem.text())]
        assert all(1 <= n <= lines_of(content) for n in named), problem


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def sneaky_login_ids(draw, encoding: str) -> str:
    """A right login ID with some characters full-width, or (where the encoding holds
    them) a zero-width, bidirectional or BOM character inside."""
    base = draw(st.sampled_from(["taro123", "hanako.s", "sato_01", "Tanaka-3", "a1b2@x.jp"]))
    if encoding == "cp932" or draw(st.booleans()):
        widened = draw(st.lists(st.booleans(), min_size=len(base), max_size=len(base)))
        widened[draw(st.integers(0, len(base) - 1))] = True
        return "".join(full_width(c) if wide else c for c, wide in zip(base, widened, strict=True))
    at = draw(st.integers(1, len(base)))
    return base[:at] + draw(st.sampled_from(INVISIBLE)) + base[at:]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_a_login_id_with_full_width_or_invisible_characters_is_refused_on_its_line(
    contract_a, data
):
    file_encoding = data.draw(FILE_ENCODINGS)
    login_id = data.draw(sneaky_login_ids("cp932" if file_encoding == "cp932" else "utf-8"))
    at = data.draw(st.integers(0, len(GOOD)))
    plain = "utf-8" if file_encoding == "utf-8-bom" else file_encoding
    line = f"{login_id},Qw8rTy2Zx5,sneaky@example.jp".encode(plain)
    content = file_with(GOOD, line, at, file_encoding)
    encoding = data.draw(st.sampled_from(["auto", plain]))

    with rolled_back():
        before = User.objects.count()
        result = user_import(
            contract=contract_a, actor=SETUP, content=content, encoding=encoding, dry_run=False
        )
        created = User.objects.count() - before

    assert (at + 1, "login_id", login_id) in [
        (p.line, p.column, p.login_id) for p in result.problems
    ]
    assert (result.created, created) == (0, 0)
