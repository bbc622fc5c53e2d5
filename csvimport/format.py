"""The CSVインポート file of the guide, read into lines: pure rules, no database.

The format (guide, chapter 1): no header, every line `ログインID,パスワード,メールアドレス`,
data from line 1. Beyond the guide:

- UTF-8 with or without a BOM and Shift_JIS (CP932, what Japanese Excel writes),
  told apart automatically (a BOM, else strict UTF-8, else strict CP932) or named
  by the caller;
- LF, CRLF or CR line ends; RFC 4180 quoting (a quoted field may hold commas,
  doubled quotes and line breaks);
- blank lines (and lines of empty fields, as Excel writes them) are ignored;
  white space around every field is trimmed (full-width spaces too);
- a first line that looks like a header row is skipped (no such line could create
  a user ID: two of its fields are column names, and no column name is a password
  or a mail address), and so is the template's example line left as it was
  (TEMPLATE_EXAMPLE);
- a field longer than the console accepts in its column (ログインID 60, パスワード 32,
  メールアドレス 254 characters) is reported at its line, and no rule reads that
  line: checking a file costs what its size allows, however long a field is.

A file that cannot be read at all (empty, too large, binary, in another
encoding, too many lines) raises FileRejected with a message for the
administrator; a line that can be read but is wrong becomes a Problem.
Line numbers are those of the file as an editor shows them, blank lines counted.

Messages are kept untranslated (`says`: the message as the catalogue knows it, and
its parameters) and put in words when the report is read (`problem_text`), in the
reader's language: a job's report is stored once and read in either language.
"""

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import password_validation
from accounts.models import USERS_PER_CONTRACT, User

MAX_BYTES = 1024 * 1024  # 1 MiB: 999 lines of the longest fields fit in a fifth of it
MAX_LINES = USERS_PER_CONTRACT.maximum  # more lines could never be created in one contract
COLUMNS = ("login_id", "password", "email")
COLUMN_LABELS = {
    "login_id": _("ログインID"),
    "password": _("パスワード"),
    "email": _("メールアドレス"),
}
# The longest value the console accepts in each column: a longer field is refused
# as it is read, before any rule runs on its line.
MAX_FIELD_LENGTHS = {
    "login_id": User._meta.get_field("login_id").max_length,
    "password": password_validation.MAX_LENGTH,
    "email": User._meta.get_field("email").max_length,
}
FIELD_TOO_LONG = _("%(column)sが長すぎます（%(length)s文字）。%(max)d文字以内で記入してください。")
# What a report keeps of a login ID that is too long to be one.
REPORTED_LOGIN_ID_LENGTH = MAX_FIELD_LENGTHS["login_id"]
ENCODINGS = {"auto": _("自動判別"), "utf-8": _("UTF-8"), "cp932": _("Shift_JIS（CP932）")}
# The template file's example line: it passes every rule, but is skipped when the file
# comes back with it unchanged. Its password is printed in every template, so a user ID
# created with it would be open to anyone; and a login ID is unique in the whole
# service, so it could be created once only.
TEMPLATE_EXAMPLE = ("example01", "Rv8Kq3Zt", "example01@example.jp")
TOO_LARGE = _("ファイルが大きすぎます。%(size)sバイト（1 MiB）以下のファイルにしてください。")
# Control characters no text file of this format holds (tab, LF and CR are allowed).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Words of a header row, compared after NFKC, lower case, spaces and _ - removed.
HEADER_WORDS = frozenset(
    {
        "ログインid",
        "ログイン",
        "loginid",
        "login",
        "id",
        "userid",
        "利用者id",
        "ユーザーid",
        "ユーザid",
        "パスワード",
        "password",
        "passwd",
        "pass",
        "pw",
        "メールアドレス",
        "メール",
        "eメール",
        "email",
        "mail",
        "emailaddress",
        "mailaddress",
        "アドレス",
    }
)


def says(message, **params) -> tuple:
    """A message of a report, untranslated: one part, ((message, params),). Parts
    are joined by `+`. A parameter that is itself a message (a column's label) is
    translated with it."""
    return ((message, params),)


def stored_message(parts: tuple) -> list:
    """Parts as a report stores them (JSON): each message as the catalogue knows it
    (the Japanese source text, or Django's English), whatever language is active."""
    with translation.override(None):
        return [
            [str(message), {name: _stored_value(value) for name, value in params.items()}]
            for message, params in parts
        ]


def _stored_value(value):
    return {"message": str(value)} if isinstance(value, Promise) else value


def problem_text(message) -> str:
    """A stored message in the active language. A report stored before messages were
    kept untranslated holds the text itself, shown as it was written."""
    if isinstance(message, str):
        return message
    return "".join(_text(text, params) for text, params in message)


def report_row(problem: dict) -> dict:
    """A stored problem as the report shows it, in the active language: 行, ログインID,
    項目, 内容."""
    column = problem["column"]
    return {
        "line": problem["line"] or "",
        "login_id": problem["login_id"],
        "column": str(COLUMN_LABELS[column]) if column else "",
        "message": problem_text(problem["message"]),
    }


def _text(message: str, params: dict) -> str:
    if not params:
        return gettext(message)
    values = {
        name: gettext(value["message"]) if isinstance(value, dict) else value
        for name, value in params.items()
    }
    return gettext(message) % values


class FileRejected(Exception):
    """The file as a whole cannot be imported; the message says why (and where)."""

    def __init__(self, message, *, line: int | None = None, **params):
        self.message = says(message, **params, **({} if line is None else {"line": line}))
        self.line = line
        super().__init__(problem_text(stored_message(self.message)))


@dataclass(frozen=True)
class Problem:
    """One entry of the report: a line (None: the file as a whole), the login ID
    written on it, the column (one of COLUMNS, or "" for the whole line) and why
    (parts made by `says`, untranslated). Never a password: callers only ever put a
    message and a login ID in it."""

    line: int | None
    column: str
    message: tuple
    login_id: str = ""

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "message": stored_message(self.message),
            "login_id": self.login_id,
        }

    def text(self) -> str:
        """Why, in the active language."""
        return problem_text(stored_message(self.message))


@dataclass(frozen=True)
class ImportLine:
    """A line with exactly three fields, trimmed. The password is kept out of repr,
    so that a traceback or a debugging print never shows it."""

    line: int
    login_id: str
    password: str = field(repr=False)
    email: str


@dataclass
class ParsedFile:
    encoding: str  # the encoding the file was read with: "utf-8" or "cp932"
    lines: list[ImportLine]  # the lines with three fields, in file order
    problems: list[Problem]  # lines with another number of fields or too long a field
    records: int  # every non-blank line, well-formed or not, but those skipped
    skipped: list[int]  # a header row, the template's example line left as it was


def read(content: bytes, encoding: str = "auto") -> ParsedFile:
    """Decode and split the uploaded bytes; raise FileRejected when that is impossible."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}")
    if not content:
        raise FileRejected(_("ファイルが空です。"))
    if len(content) > MAX_BYTES:
        raise FileRejected(TOO_LARGE, size=f"{MAX_BYTES:,}")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRejected(
            _(
                "UTF-16（Unicodeテキスト）のファイルには対応していません。"
                "「CSV UTF-8」または「CSV（コンマ区切り）」で保存してください。"
            )
        )
    if b"\x00" in content:
        raise FileRejected(
            _("CSVファイルではありません（NUL文字を含むバイナリデータです）。"),
            line=_line_of(content, content.index(b"\x00")),
        )
    text, used = _decode(content, encoding)
    if control := CONTROL.search(text):
        line = _line_of(text, control.start())
        raise FileRejected(
            _("CSVファイルではありません（%(line)d行目に制御文字があります）。"), line=line
        )
    return _split(text, used)


def _decode(content: bytes, encoding: str) -> tuple[str, str]:
    has_bom = content.startswith(codecs.BOM_UTF8)
    if encoding == "cp932" and has_bom:
        raise FileRejected(
            _(
                "このファイルはUTF-8（BOM付き）です。"
                "文字コードに「自動判別」か「UTF-8」を選んでください。"
            )
        )
    candidates = {"auto": ["utf-8", "cp932"], "utf-8": ["utf-8"], "cp932": ["cp932"]}[encoding]
    if encoding == "auto" and has_bom:
        candidates = ["utf-8"]
    furthest = 0  # of the encodings tried, the one that read furthest tells the line
    for candidate in candidates:
        try:
            # utf-8-sig drops a leading BOM and reads a file without one alike.
            return content.decode("utf-8-sig" if candidate == "utf-8" else candidate), candidate
        except UnicodeDecodeError as error:
            furthest = max(furthest, error.start)
    line = _line_of(content, furthest)
    if encoding == "auto":
        message = _(
            "文字コードを判別できません（%(line)d行目）。"
            "UTF-8またはShift_JIS（CP932）で保存したCSVファイルを選んでください。"
        )
    else:
        message = _(
            "%(line)d行目に%(encoding)sとして読めない文字があります。"
            "文字コードの指定が正しいか確認してください。"
        )
    raise FileRejected(message, line=line, encoding=ENCODINGS[encoding])


# Line ends as the csv module counts them (reader.line_num): CRLF, LF or a lone CR
# (what "CSV (Macintosh)" writes).
LINE_END = re.compile(r"\r\n?|\n")
LINE_END_BYTES = re.compile(rb"\r\n?|\n")


def _line_of(content: bytes | str, offset: int) -> int:
    """The line, as an editor numbers it, of the character at `offset`."""
    ends = LINE_END_BYTES if isinstance(content, bytes) else LINE_END
    return sum(1 for _end in ends.finditer(content, 0, offset)) + 1


def _split(text: str, encoding: str) -> ParsedFile:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[ImportLine] = []
    problems: list[Problem] = []
    records = 0
    skipped: list[int] = []
    line_number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                # A field of over 131,072 characters: no column of this file is
                # longer than 254, so an opening quote never closed is the likely cause.
                message = _(
                    "%(line)d行目から始まる項目が長すぎます。"
                    '項目を " で囲んだまま閉じ忘れていないか確認してください。'
                )
            else:
                message = _(
                    '%(line)d行目の引用符（"）の使い方が正しくありません。'
                    '項目を " で囲む場合は、項目の中の " を "" と2つ重ねてください。'
                )
            raise FileRejected(message, line=line_number) from error
        start, line_number = line_number, reader.line_num + 1
        fields = [value.strip() for value in row]
        if not any(fields):
            continue  # a blank line, or a line of empty fields
        if (not records and not skipped and looks_like_header(fields)) or (
            tuple(fields) == TEMPLATE_EXAMPLE
        ):
            skipped.append(start)
            continue
        records += 1
        if records > MAX_LINES:
            raise FileRejected(
                _("1つのファイルに記入できるのは%(max)d行までです。ファイルを分けてください。"),
                max=MAX_LINES,
            )
        if len(fields) != len(COLUMNS):
            problems.append(
                Problem(
                    start,
                    "",
                    says(
                        _(
                            "項目の数が%(count)d個です。1行に「ログインID,パスワード,メールアドレス」の"
                            "3項目をコンマ区切りで記入してください。"
                        ),
                        count=len(fields),
                    ),
                    login_id=reported_login_id(fields[0]),
                )
            )
            continue
        too_long = _too_long(start, fields)
        if too_long:
            problems += too_long
            continue
        lines.append(ImportLine(start, *fields))
    if not records and skipped:
        raise FileRejected(
            _(
                "見出し行と、テンプレートの記入例の行のほかに、データがありません。"
                "記入例の行を書き換えるか、その下に作成する利用者IDを記入してください。"
            )
        )
    if not records:
        raise FileRejected(_("ファイルにデータがありません。"))
    return ParsedFile(
        encoding=encoding, lines=lines, problems=problems, records=records, skipped=skipped
    )


def template() -> bytes:
    """The template file (テンプレートファイル): the column names in the viewer's
    language and the example line, in UTF-8 with a BOM and CRLF line ends, as Excel
    saves "CSV UTF-8", so that Excel opens it (and saves it again) as UTF-8."""
    header = ",".join(str(COLUMN_LABELS[column]) for column in COLUMNS)
    return codecs.BOM_UTF8 + f"{header}\r\n{','.join(TEMPLATE_EXAMPLE)}\r\n".encode()


def _too_long(line: int, fields: list[str]) -> list[Problem]:
    """A Problem for each field of the line longer than its column accepts."""
    return [
        Problem(
            line,
            column,
            says(FIELD_TOO_LONG, column=COLUMN_LABELS[column], length=f"{len(value):,}", max=limit),
            reported_login_id(fields[0]),
        )
        for column, value in zip(COLUMNS, fields, strict=True)
        if len(value) > (limit := MAX_FIELD_LENGTHS[column])
    ]


def reported_login_id(value: str) -> str:
    """A login ID as a report shows it: cut short (with …) when longer than any can be."""
    if len(value) <= REPORTED_LOGIN_ID_LENGTH:
        return value
    return value[:REPORTED_LOGIN_ID_LENGTH] + "…"


def looks_like_header(fields: list[str]) -> bool:
    """Two or more fields are words of a header row (ログインID, password, メール, ...)."""
    words = [re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", f)).lower() for f in fields]
    return sum(word in HEADER_WORDS for word in words) >= 2
