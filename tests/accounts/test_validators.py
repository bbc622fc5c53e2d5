"""The guide's rules for passwords, login IDs and phone numbers, exhaustively."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.password_validation import common_english_words
from accounts.validators import validate_login_id, validate_phone


def password_errors(password, login_id="kanri01"):
    try:
        validate_password(password, User(login_id=login_id))
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


@pytest.mark.parametrize(
    "password", ["Vq7xLp3Rz9", "Kx7mQ2vR9w", "q9w8e7r6", "Q9W8E7R6", "Hn5v-Rt2_Wq8!", "b7" * 4]
)
def test_good_passwords_pass(password):
    assert password_errors(password) == set()


class TestLength:
    @pytest.mark.parametrize("length, ok", [(7, False), (8, True), (32, True), (33, False)])
    def test_boundaries(self, length, ok):
        password = ("q9W8e7R6t5Y4u3I2o1P0z9X8c7V6b5N4m3" * 2)[:length]
        assert ("password_length" not in password_errors(password)) is ok

    @pytest.mark.parametrize(
        "password", ["Ｑ９ｗ８ｅ７ｒ６", "q9W8 e7R6", "q9W8e7R6\t", "q9W8e7R6あ", "q9W8e7R6\x00"]
    )
    def test_only_half_width_printable_ascii(self, password):
        assert "password_characters" in password_errors(password)

    def test_message_names_the_rule(self):
        with pytest.raises(ValidationError) as error:
            validate_password("q9W8e7", User(login_id="kanri01"))
        assert "8文字以上32文字以内" in " ".join(error.value.messages)


class TestKinds:
    @pytest.mark.parametrize("password", ["qzwxecrv", "QZWXECRV", "97531864", "qzwx!#$%"])
    def test_one_kind_is_refused(self, password):
        assert "password_kinds" in password_errors(password)

    @pytest.mark.parametrize("password", ["qzwxecr9", "QZWXECR9", "qzwXECRV"])
    def test_two_kinds_pass(self, password):
        assert "password_kinds" not in password_errors(password)

    def test_symbols_are_allowed_but_are_not_a_kind(self):
        assert "password_kinds" in password_errors("!#$%&9753")
        assert password_errors("!#$%&975q") == set()


class TestLoginId:
    @pytest.mark.parametrize("password", ["x7Kanri01Q", "x7KANRI01Q", "kanri01Zq"])
    def test_login_id_inside_in_any_case_is_refused(self, password):
        assert "password_login_id" in password_errors(password, login_id="Kanri01")

    def test_part_of_the_login_id_is_fine(self):
        assert "password_login_id" not in password_errors("Kanr9q7Xz", login_id="kanri01")


class TestCommonWords:
    @pytest.mark.parametrize("password", ["Summer2024x", "x9PASSWORDq", "7qHouse5z", "Qz9Tree8x"])
    def test_a_common_word_inside_is_refused(self, password):
        assert "password_common_word" in password_errors(password)

    def test_the_message_names_the_word(self):
        with pytest.raises(ValidationError) as error:
            validate_password("7qHouse5z", User(login_id="kanri01"))
        assert "house" in " ".join(error.value.messages)

    def test_three_letter_words_are_not_checked(self):
        assert "password_common_word" not in password_errors("Cat9Dog7Zq")

    def test_the_word_list_is_the_documented_one(self):
        words = common_english_words()
        assert 9000 < len(words) < 10000
        assert all(len(w) >= 4 and w.isalpha() and w.islower() for w in words)
        assert {"password", "house", "summer", "love"} <= words


class TestRuns:
    @pytest.mark.parametrize(
        "password",
        [
            "Xq0000zR",
            "Xq1234zR",
            "Xqabcdz9",
            "Xq4321zR",
            "Xqdcba9Z",
            "XqABCD9z",
            "XqaBcD9z",
            "xQ7777q",
        ],
    )
    def test_the_guides_examples_and_their_reverses_are_refused(self, password):
        assert "password_run" in password_errors(password)

    @pytest.mark.parametrize(
        "password", ["Xq000zR9", "Xq123zR8", "Xqabc9zR", "Xq1357zR", "Xq9a0bzR"]
    )
    def test_runs_of_three_pass(self, password):
        assert "password_run" not in password_errors(password)

    def test_letters_and_digits_do_not_make_one_run(self):
        # 8, 9 then a, b is not a sequence: digits and letters are separate alphabets.
        assert "password_run" not in password_errors("Qz89abXw")


def test_every_broken_rule_is_named_at_once():
    codes = password_errors("kanri01aaaa", login_id="kanri01")
    assert {"password_login_id", "password_run"} <= codes


def test_commonly_used_passwords_are_refused():
    assert "password_too_common" in password_errors("Password1")


class TestLoginIdRule:
    @pytest.mark.parametrize(
        "login_id", ["abcd", "a" * 60, "taro@example.jp", "ntteast201_001", "a.b-c_d", "TARO"]
    )
    def test_valid(self, login_id):
        validate_login_id(login_id)

    @pytest.mark.parametrize(
        "login_id, code",
        [
            ("abc", "login_id_length"),
            ("a" * 61, "login_id_length"),
            ("taro san", "login_id_characters"),
            ("たろう", "login_id_characters"),
            ("ｔａｒｏ", "login_id_characters"),
            ("taro!", "login_id_characters"),
            ("=cmd|x", "login_id_characters"),
            ("taro\u200b", "login_id_characters"),
            ("", "login_id_characters"),
            # never the start of a spreadsheet formula, nor any other symbol first
            ("-taro", "login_id_first_character"),
            ("@taro", "login_id_first_character"),
            ("_taro", "login_id_first_character"),
            (".taro", "login_id_first_character"),
        ],
    )
    def test_invalid(self, login_id, code):
        with pytest.raises(ValidationError) as error:
            validate_login_id(login_id)
        assert error.value.code == code


class TestPhone:
    @pytest.mark.parametrize("phone", ["", "03-1234-5678", "+81-3-1234-5678", "0312345678"])
    def test_valid(self, phone):
        validate_phone(phone)

    @pytest.mark.parametrize("phone", ["03(1234)5678", "０３", "03 1234", "tel:03"])
    def test_invalid(self, phone):
        with pytest.raises(ValidationError):
            validate_phone(phone)
