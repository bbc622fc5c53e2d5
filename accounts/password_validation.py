"""The guide's password rules, each a Django password validator.

They are listed in settings.AUTH_PASSWORD_VALIDATORS, so every path that sets a
password (the console's create and edit screens, the CSV import,
create_contract, Django admin, a user's own password change) applies the same
rules through `django.contrib.auth.password_validation.validate_password`.
Each rule raises its own message and code, so the screen names the broken rule.

Pure functions of the password (and the user's login ID): no database. Every rule's
work grows at most linearly with the length of the password, and `validate_password`
checks the length first: a password longer than MAX_LENGTH gets only that error.
"""

import re
import string
from functools import cache
from itertools import pairwise
from pathlib import Path

from django.contrib.auth import password_validation as django_password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_LENGTH = 8
MAX_LENGTH = 32
RUN_LENGTH = 4  # 4 or more of the same or of consecutive characters are refused
# Half-width printable ASCII without the space: a space at either end would be
# silently trimmed by the CSV import and by many copy-and-paste paths.
ALLOWED = re.compile(r"[\x21-\x7e]+")
WORDS_FILE = Path(__file__).with_name("data") / "common_english_words.txt"


class LengthValidator:
    """8文字以上32文字以内, 半角英数字と記号のみ."""

    def validate(self, password, user=None):
        if not ALLOWED.fullmatch(password):
            raise ValidationError(
                _(
                    "パスワードには半角英数字と記号のみ使用できます（全角文字や空白は使用できません）。"
                ),
                code="password_characters",
            )
        if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
            raise self.length_error()

    @staticmethod
    def length_error() -> ValidationError:
        return ValidationError(
            _("パスワードは%(min)d文字以上%(max)d文字以内で入力してください。"),
            code="password_length",
            params={"min": MIN_LENGTH, "max": MAX_LENGTH},
        )

    def get_help_text(self):
        return _("%(min)d文字以上%(max)d文字以内で入力してください（半角英数字と記号）。") % {
            "min": MIN_LENGTH,
            "max": MAX_LENGTH,
        }


def validate_password(password: str, user=None) -> None:
    """Every rule of AUTH_PASSWORD_VALIDATORS, each broken one named, with the length
    first: a password longer than MAX_LENGTH gets only the length error, and no other
    rule reads it (a 100,000-character password costs one len())."""
    if len(password) > MAX_LENGTH:
        raise LengthValidator.length_error()
    django_password_validation.validate_password(password, user)


class CharacterKindsValidator:
    """半角英数大小文字の中から複数種類（2種類以上）. Symbols are allowed but are not a kind."""

    KINDS = (string.ascii_uppercase, string.ascii_lowercase, string.digits)

    def validate(self, password, user=None):
        kinds = sum(any(c in kind for c in password) for kind in self.KINDS)
        if kinds < 2:
            raise ValidationError(
                _("パスワードには英大文字・英小文字・数字のうち2種類以上を使用してください。"),
                code="password_kinds",
            )

    def get_help_text(self):
        return _("英大文字・英小文字・数字のうち2種類以上を使用してください。")


class LoginIdValidator:
    """パスワードにログインIDを含まない (case-insensitively)."""

    def validate(self, password, user=None):
        login_id = getattr(user, "login_id", "") or ""
        if login_id and login_id.lower() in password.lower():
            raise ValidationError(
                _("パスワードにログインIDを含めることはできません。"), code="password_login_id"
            )

    def get_help_text(self):
        return _("パスワードにログインIDを含めないでください。")


@cache
def common_english_words() -> frozenset[str]:
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def common_word_lengths() -> tuple[int, ...]:
    """The lengths the common words have (4 to a little over 10), shortest first."""
    return tuple(sorted({len(word) for word in common_english_words()}))


def find_common_word(password: str, *, words=None) -> str | None:
    """The first common English word (4+ letters) inside the password, if any: the
    one that starts first, the shortest of those starting there.

    Only substrings of the words' own lengths are looked up, so the work grows with
    the length of the password times the number of distinct word lengths (about a
    dozen), not with its square or cube. `words` stands in for the word list in the
    tests that count the lookups."""
    words = common_english_words() if words is None else words
    lengths = common_word_lengths()
    lowered = password.lower()
    for start in range(len(lowered)):
        for length in lengths:
            end = start + length
            if end > len(lowered):
                break
            if lowered[start:end] in words:
                return lowered[start:end]
    return None


class CommonEnglishWordValidator:
    """一般的な英単語を含んだパスワードは使用できません."""

    def validate(self, password, user=None):
        word = find_common_word(password)
        if word:
            raise ValidationError(
                _("パスワードに一般的な英単語（%(word)s）を含めることはできません。"),
                code="password_common_word",
                params={"word": word},
            )

    def get_help_text(self):
        return _("一般的な英単語を含めないでください。")


def find_run(password: str) -> str | None:
    """The first run of RUN_LENGTH identical characters, or of consecutive letters or
    digits ascending or descending (1234, abcd, 4321, DCBA), if any."""
    lowered = password.lower()
    for i in range(len(lowered) - RUN_LENGTH + 1):
        window = lowered[i : i + RUN_LENGTH]
        if len(set(window)) == 1:
            return password[i : i + RUN_LENGTH]
        same_class = window.isdigit() or (window.isalpha() and window.isascii())
        steps = {ord(b) - ord(a) for a, b in pairwise(window)}
        if same_class and steps in ({1}, {-1}):
            return password[i : i + RUN_LENGTH]
    return None


class RepeatedOrSequentialValidator:
    """同一文字や4つ以上連続する文字を使用しない（例: 0000、1234、abcd）."""

    def validate(self, password, user=None):
        run = find_run(password)
        if run:
            raise ValidationError(
                _(
                    "パスワードに同じ文字や連続した文字を4つ以上並べることはできません"
                    "（%(run)s）。例: 0000、1234、abcd"
                ),
                code="password_run",
                params={"run": run},
            )

    def get_help_text(self):
        return _("同じ文字や連続した文字を4つ以上並べないでください（例: 0000、1234、abcd）。")
