"""The suite's test data is the same on every run and obeys the console's rules: no
run can meet a persona that a rule refuses by chance, or examples no other run drew."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.validators import validate_email
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Role, User
from accounts.validators import validate_login_id
from tests.conftest import PASSWORD, sequential_login_id

DRAWS = 10_000


@pytest.mark.parametrize("prefix", ["admin", "user"])
def test_every_counted_login_id_passes_the_rules_with_the_factories_password(prefix):
    for number in [*range(1, DRAWS + 1), 10**6, 10**9]:
        login_id = sequential_login_id(prefix, number)
        email = f"{login_id}@example.jp"
        validate_login_id(login_id)
        validate_email(email)
        validate_password(PASSWORD, User(login_id=login_id, email=email, role=Role.USER))


def drawn_passwords() -> list[str]:
    """What a property test of the suite draws, run once."""
    drawn = []

    @given(st.text(alphabet="abcXYZ0189!", min_size=8, max_size=32))
    def property_test(password):
        drawn.append(password)

    property_test()
    return drawn


def test_property_tests_draw_the_same_examples_on_every_run():
    first = drawn_passwords()
    assert len(set(first)) > 10
    assert drawn_passwords() == first
