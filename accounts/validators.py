"""Pure rules for the fields of a user ID: no database, no request.

Forms, services, the CSV importer and the model fields all call these, so a rule
is written once. Each error carries a code so that tests and callers can tell
the rules apart.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOGIN_ID_MIN_LENGTH = 4
LOGIN_ID_MAX_LENGTH = 60
# Half-width letters, digits and the symbols the guide shows in login IDs.
LOGIN_ID_CHARACTERS = re.compile(r"[A-Za-z0-9@._-]+")
# A letter or a digit first: a login ID never starts like a spreadsheet formula
# (= + - @), so a CSV file holding it cannot run one in Excel.
LOGIN_ID_FIRST_CHARACTER = re.compile(r"[A-Za-z0-9]")
PHONE_CHARACTERS = re.compile(r"[0-9+-]+")


def validate_login_id(value: str) -> None:
    """ログインID: 4–60 half-width letters, digits and @ . _ -, starting with a letter or
    digit. Too long is checked first, so that a long value gets only that error."""
    if len(value) > LOGIN_ID_MAX_LENGTH:
        _login_id_length()
    if not LOGIN_ID_CHARACTERS.fullmatch(value):
        raise ValidationError(
            _("ログインIDには半角英数字と記号（@ . _ -）のみ使用できます。"),
            code="login_id_characters",
        )
    if not LOGIN_ID_FIRST_CHARACTER.match(value):
        raise ValidationError(
            _("ログインIDは半角英数字で始めてください。"),
            code="login_id_first_character",
        )
    if len(value) < LOGIN_ID_MIN_LENGTH:
        _login_id_length()


def _login_id_length():
    raise ValidationError(
        _("ログインIDは%(min)d～%(max)d文字で入力してください。"),
        code="login_id_length",
        params={"min": LOGIN_ID_MIN_LENGTH, "max": LOGIN_ID_MAX_LENGTH},
    )


def validate_phone(value: str) -> None:
    """連絡先電話番号: half-width digits and + -"""
    if value and not PHONE_CHARACTERS.fullmatch(value):
        raise ValidationError(
            _("連絡先電話番号には半角数字と記号（+ -）のみ使用できます。"),
            code="phone_characters",
        )
