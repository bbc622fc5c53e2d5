"""Every CSV the console writes neutralises a cell a spreadsheet would run as a
formula, full-width forms included: Japanese Excel reads ＝ ＋ － ＠ as = + - @."""

import csv
import io

import pytest
from django.urls import reverse

from accounts import services
from core.csvsafe import neutralise
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@SUM(A1)", "＝1+1", "＋1", "－1", "＠SUM(A1)", "\t=1", "\r=1"],
)
def test_every_formula_start_gets_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["営業部", "1+1", "a=b", "", None, 12])
def test_other_cells_are_left_as_they_are(value):
    assert neutralise(value) == ("" if value is None else str(value))


def test_a_full_width_formula_in_the_user_export_is_neutralised(admin_client_a, admin_a):
    services.user_create(
        contract=admin_a.contract,
        actor=admin_a,
        login_id="sato01",
        password=PASSWORD,
        email="sato01@example.jp",
        department="＝1+1",
        title="＠SUM(1)",
        display_name="－HYPERLINK(1)",
        notify_user=False,
    )
    response = admin_client_a.get(reverse("accounts:user-export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    [row] = [row for row in csv.reader(io.StringIO(body)) if row[0] == "sato01"]
    assert row[2:5] == ["'－HYPERLINK(1)", "'＠SUM(1)", "'＝1+1"]
