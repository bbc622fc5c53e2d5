"""CSVインポート, the service (csvimport.services.user_import) and the file format
(csvimport.format): all or nothing, every rule of the creation screen, the
report, the limit, the encodings."""

import json

import pytest
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import translation

from accounts.models import Contract, Role, User
from audit.models import AuditEntry
from csvimport import format as csv_format
from csvimport.services import ImportObserver, user_import
from notifications.models import Notification
from tests.conftest import SETUP
from tests.csvimport.csvfiles import GOOD, PASSWORDS, csv_bytes, good_file
from tests.csvimport.csvfiles import good_file_with_full_width_spaces as spaced_file


def run(contract, content, **options):
    return user_import(contract=contract, actor=SETUP, content=content, **options)


def imported(contract) -> list[str]:
    return sorted(User.objects.for_contract(contract).users().values_list("login_id", flat=True))


def report(result) -> list[tuple]:
    return [(p.line, p.column, p.login_id) for p in result.problems]


def messages(result) -> str:
    return "\n".join(p.text() for p in result.problems)


GOOD_IDS = sorted(login_id for login_id, _password, _email in GOOD)


class TestValidFiles:
    @pytest.mark.parametrize(
        "content, encoding",
        [
            (spaced_file("utf-8"), "utf-8"),
            (spaced_file("utf-8", bom=True), "utf-8"),
            (spaced_file("cp932"), "cp932"),
        ],
        ids=["utf-8", "utf-8-bom", "cp932"],
    )
    @pytest.mark.parametrize("notify_users", [True, False], ids=["notified", "silent"])
    def test_three_lines_create_three_users(
        self,
        contract_a,
        content,
        encoding,
        notify_users,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            result = run(contract_a, content, notify_users=notify_users)

        assert result.ok, result.problems
        assert (result.created, result.lines, result.encoding) == (3, 3, encoding)
        assert imported(contract_a) == GOOD_IDS  # the full-width spaces were trimmed
        for login_id, password, email in GOOD:
            user = User.objects.get(login_id=login_id)
            assert (user.role, user.contract, user.email, user.nickname) == (
                Role.USER,
                contract_a,
                email,
                email,
            )
            assert check_password(password, user.password)
        if notify_users:
            assert sorted(m.to[0] for m in mailoutbox) == sorted(e for _l, _p, e in GOOD)
            assert all(p not in m.body for m in mailoutbox for p in PASSWORDS)
        else:
            assert mailoutbox == []

    def test_one_audit_entry_names_the_file_and_the_counts(self, contract_a, admin_a):
        user_import(contract=contract_a, actor=admin_a, content=good_file(), file_name="staff.csv")
        entry = AuditEntry.objects.get(action="users_imported")
        assert (entry.contract, entry.actor_login_id, entry.target) == (
            contract_a,
            "admin-a",
            "staff.csv",
        )
        assert entry.changes == {"lines": ["", "3"], "created": ["", "3"]}

    def test_crlf_quoted_fields_blank_lines_and_spaces(self, contract_a):
        content = csv_bytes(
            [
                '"sato01","Hn5v,Rt2""Wq8","sato@example.jp"',  # a comma and a quote inside
                "",
                " suzuki.hanako ,\tTz4kMw9Qx2\t, hanako.suzuki@example.jp ",
                ",,",  # a row Excel leaves empty
                "   ",
                '"Tanaka_3",Pq7wZx3Kd9,"tanaka@example.jp"',
            ],
            newline="\r\n",
        )
        result = run(contract_a, content)
        assert result.ok, result.problems
        assert imported(contract_a) == GOOD_IDS
        assert check_password('Hn5v,Rt2"Wq8', User.objects.get(login_id="sato01").password)

    def test_a_quoted_field_may_span_lines_and_the_line_numbers_follow(self, contract_a):
        content = csv_bytes(['"sato\n01",Hn5vRt2Wq8,sato@example.jp', "ab,Tz4kMw9Qx2,x@example.jp"])
        result = run(contract_a, content)
        assert report(result) == [(1, "login_id", "sato\n01"), (3, "login_id", "ab")]

    def test_the_encoding_can_be_named(self, contract_a):
        assert run(contract_a, spaced_file("cp932"), encoding="cp932").created == 3

    def test_dry_run_checks_and_creates_nothing(self, contract_a):
        result = run(contract_a, good_file(), dry_run=True)
        assert result.ok and result.dry_run
        assert result.created == 0
        assert imported(contract_a) == []


class TestInvalidLines:
    @pytest.mark.parametrize(
        "line, column, words",
        [
            ("abc,Hn5vRt2Wq8,abc@example.jp", "login_id", "4～60文字"),
            ("=cmd|x,Hn5vRt2Wq8,x@example.jp", "login_id", "半角英数字と記号"),
            ("-sato,Hn5vRt2Wq8,x@example.jp", "login_id", "半角英数字で始めて"),
            ("@sato,Hn5vRt2Wq8,x@example.jp", "login_id", "半角英数字で始めて"),
            ("+sato,Hn5vRt2Wq8,x@example.jp", "login_id", "半角英数字と記号"),
            ("さとう,Hn5vRt2Wq8,x@example.jp", "login_id", "半角英数字と記号"),
            ("kato01,Hn5vRt,kato@example.jp", "password", "8文字以上32文字以内"),
            ("kato01,xKATO01yZ9,kato@example.jp", "password", "ログインIDを含める"),
            ("kato01,Zq9house7X,kato@example.jp", "password", "一般的な英単語"),
            ("kato01,Zq9x1234vW,kato@example.jp", "password", "連続した文字"),
            ("kato01,Hn5v Rt2Wq8,kato@example.jp", "password", "全角文字や空白"),
            ("kato01,Hn5vRt2Wq8,not-an-address", "email", "メールアドレス"),
            ("kato01,Hn5vRt2Wq8,", "email", "空ではいけません"),
            ("kato01,Hn5vRt2Wq8", "", "項目の数が2個"),
            ("kato01,Hn5vRt2Wq8,kato@example.jp,extra", "", "項目の数が4個"),
        ],
    )
    def test_each_kind_is_reported_on_its_line_and_nothing_is_created(
        self, contract_a, line, column, words
    ):
        content = csv_bytes([GOOD[0], "", line, GOOD[1]])
        result = run(contract_a, content)

        assert not result.ok
        [problem] = result.problems
        assert (problem.line, problem.column) == (3, column)  # the blank line counts
        assert problem.login_id == line.split(",")[0]
        assert words in problem.text()
        assert imported(contract_a) == []

    def test_every_bad_line_is_reported_at_once_in_file_order(self, contract_a):
        content = csv_bytes(["ab,Hn5vRt2Wq8,x@example.jp", GOOD[0], "kato01,short,bad", "solo"])
        result = run(contract_a, content)
        assert list(dict.fromkeys(report(result))) == [
            (1, "login_id", "ab"),
            (3, "password", "kato01"),
            (3, "email", "kato01"),
            (4, "", "solo"),
        ]

    def test_a_quoted_part_of_a_password_is_masked_in_the_report(self, contract_a):
        result = run(contract_a, csv_bytes(["kato01,Zq9house7X,k@example.jp"]))
        assert "（*****）" in messages(result)
        assert "house" not in messages(result)

    def test_duplicate_inside_the_file_in_another_case(self, contract_a):
        content = csv_bytes([GOOD[0], GOOD[1], ("SATO01", "Xw3kRt8Lm2", "other@example.jp")])
        result = run(contract_a, content)
        assert report(result) == [(3, "login_id", "SATO01")]
        assert "1行目と同じログインID" in messages(result)
        assert imported(contract_a) == []

    def test_duplicate_of_another_contracts_user(self, contract_a, users_b):
        content = csv_bytes([GOOD[0], ("JIRO-B", "Xw3kRt8Lm2", "j@example.jp")])
        result = run(contract_a, content)
        assert report(result) == [(2, "login_id", "JIRO-B")]
        assert "既に使用されています" in messages(result)
        assert imported(contract_a) == []

    def test_duplicate_of_an_administrator(self, contract_a, admin_b):
        result = run(contract_a, csv_bytes([("Admin-B", "Xw3kRt8Lm2", "j@example.jp")]))
        assert report(result) == [(1, "login_id", "Admin-B")]

    def test_the_limit_counts_the_contracts_users_and_the_file(self, contract_a, fill_contract):
        fill_contract(contract_a, Contract.USER_LIMIT - 2)
        result = run(contract_a, good_file())
        assert report(result) == [(None, "", "")]
        assert "999個まで" in messages(result)
        assert "あと2個" in messages(result)
        assert User.objects.for_contract(contract_a).users().count() == Contract.USER_LIMIT - 2

    def test_the_file_may_fill_the_contract_exactly(self, contract_a, fill_contract):
        fill_contract(contract_a, Contract.USER_LIMIT - 3)
        assert run(contract_a, good_file()).created == 3

    def test_another_contracts_users_do_not_count(self, contract_a, contract_b, fill_contract):
        fill_contract(contract_b, Contract.USER_LIMIT)
        assert run(contract_a, good_file()).created == 3


class TestHeaderRow:
    @pytest.mark.parametrize(
        "header",
        [
            "ログインID,パスワード,メールアドレス",
            "login_id,password,email",
            "Login ID, Password, E-mail",
            "ＩＤ,パスワード,メール",
        ],
    )
    def test_a_header_row_on_the_first_line_is_skipped(self, contract_a, header):
        result = run(contract_a, csv_bytes(["", header, *GOOD]))
        assert (result.problems, result.lines, result.created) == ([], 3, 3)
        assert imported(contract_a) == GOOD_IDS

    def test_a_header_row_below_the_first_line_is_a_line_to_fix(self, contract_a):
        result = run(contract_a, csv_bytes([*GOOD, "login_id,password,email"]))
        assert {line for line, _column, _login_id in report(result)} == {4}
        assert imported(contract_a) == []

    def test_a_user_id_named_like_a_column_is_not_a_header(self, contract_a):
        result = run(contract_a, csv_bytes([("mail", "Hn5vRt2Wq8", "mail@example.jp")]))
        assert result.created == 1


class TestHostileFiles:
    @pytest.mark.parametrize(
        "content, words",
        [
            (b"", "ファイルが空です"),
            (b"\n\r\n  \n,,\n", "データがありません"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "バイナリデータ"),
            (b"sato01,Hn5v\x00Rt2Wq8,sato@example.jp\n", "NUL文字"),
            ("sato01,Hn5vRt2Wq8,sato@example.jp\n".encode("utf-16"), "UTF-16"),
            (b"sato01,Hn5vRt2Wq8,sato@example.jp\nkato,\x1b[31m,x\n", "2行目に制御文字"),
            (b"sato01,Hn5vRt2Wq8,sato@example.jp\nkato,\x81\x20,x\n", "判別できません（2行目）"),
            (b'sato01,"Hn5v"Rt2Wq8,sato@example.jp\n', "1行目の引用符"),
            (b'sato01,"Hn5vRt2Wq8,sato@example.jp\n', "1行目の引用符"),
            (b"x" * (csv_format.MAX_BYTES + 1), "ファイルが大きすぎます"),
            (csv_bytes([GOOD[0]] * 1000), "999行まで"),
            # Excel's "CSV (Macintosh)" ends lines with a lone CR: counted as lines.
            (b"sato01,Hn5vRt2Wq8,a@example.jp\rtaro\x00,Hn5vRt2Wq8,b@example.jp\r", "NUL文字"),
            (b"sato01,Hn5vRt2Wq8,a@example.jp\rkato,\x1b[31m,x\r", "2行目に制御文字"),
            (
                b"sato01,Hn5vRt2Wq8,a@example.jp\n" + b"x" * 131_073 + b",b,c\n",
                "2行目から始まる項目が長すぎます",
            ),
        ],
        ids=[
            "empty",
            "blank",
            "binary",
            "nul",
            "utf-16",
            "control",
            "undecodable",
            "stray-quote",
            "open-quote",
            "too-large",
            "too-many-lines",
            "cr-nul",
            "cr-control",
            "huge-field",
        ],
    )
    def test_is_refused_with_a_message_and_creates_nothing(self, contract_a, content, words):
        result = run(contract_a, content)
        assert not result.ok
        assert words in messages(result)
        assert imported(contract_a) == []

    @pytest.mark.parametrize(
        "content",
        [
            b"sato01,Hn5vRt2Wq8,a@example.jp\rtaro\x00,Hn5vRt2Wq8,b@example.jp\r",
            b"sato01,Hn5vRt2Wq8,a@example.jp\r\nkato,\x1b[31m,x\r\n",
            b"sato01,Hn5vRt2Wq8,a@example.jp\rkato,\x81\x20,x\r",
        ],
        ids=["nul", "control", "undecodable"],
    )
    def test_a_refused_file_names_the_line_whatever_its_line_ends(self, contract_a, content):
        result = run(contract_a, content)
        assert [problem.line for problem in result.problems] == [2]

    def test_bytes_invalid_in_the_named_encoding_name_their_line(self, contract_a):
        content = spaced_file("cp932")
        result = run(contract_a, content, encoding="utf-8")
        assert "1行目にUTF-8として読めない文字" in messages(result)
        assert report(result) == [(1, "", "")]

    def test_a_utf8_bom_file_named_cp932_is_refused(self, contract_a):
        result = run(contract_a, spaced_file("utf-8", bom=True), encoding="cp932")
        assert "UTF-8（BOM付き）" in messages(result)

    def test_999_lines_are_accepted(self, contract_a):
        rows = [(f"user{i:03d}", "Hn5vRt2Wq8", f"u{i}@example.jp") for i in range(999)]
        result = run(contract_a, csv_bytes(rows), dry_run=True)
        assert result.ok and result.lines == 999


class TestAllOrNothing:
    def test_a_login_id_taken_while_hashing_is_reported_and_nothing_created(
        self, contract_a, contract_b, make_user
    ):
        class TakeOneMeanwhile(ImportObserver):
            def prepared(self, count, total):
                if count == 1:
                    make_user(contract_b, "suzuki.HANAKO")

        result = run(contract_a, good_file(), observer=TakeOneMeanwhile())
        assert report(result) == [(2, "login_id", "suzuki.hanako")]
        assert imported(contract_a) == []

    def test_a_worker_dying_before_commit_leaves_nothing(
        self, contract_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        class Dies(ImportObserver):
            def finishing(self, result):
                raise SystemExit("killed")

        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(SystemExit),
            transaction.atomic(),
        ):
            run(contract_a, good_file(), notify_users=True, observer=Dies())
        assert imported(contract_a) == []
        assert not Notification.objects.exists()
        assert not AuditEntry.objects.filter(action="users_imported").exists()
        assert mailoutbox == []


def test_the_report_never_holds_a_password(contract_a, users_b):
    content = csv_bytes(
        [
            ("jiro-b", PASSWORDS[0], "x@example.jp"),
            ("ok01", PASSWORDS[1], "not-mail"),
            ("ok02", "Zq9house7X", "y@example.jp"),
            ("ok03", "Zq9x5678vW", "z@example.jp"),
            ("ok04", PASSWORDS[2]),
        ]
    )
    result = run(contract_a, content)
    text = json.dumps([p.as_dict() for p in result.problems], ensure_ascii=False)
    assert len(result.problems) == 5
    for secret in [*PASSWORDS, "Zq9house7X", "Zq9x5678vW", "house", "5678"]:
        assert secret not in text
    assert all(p not in repr(result) for p in PASSWORDS)


@pytest.mark.parametrize("lines", [3, 49])
def test_the_queries_do_not_grow_with_the_lines(contract_a, django_assert_max_num_queries, lines):
    rows = [(f"user{i:03d}", "Hn5vRt2Wq8", f"u{i}@example.jp") for i in range(lines)]
    # Nothing is read per line: the login IDs and the user count before hashing, the
    # contract lock, the same two again, the insert (one statement up to 49 users on
    # SQLite, which binds 999 parameters at most: 20 columns a user), the audit entry,
    # two savepoints.
    # (With notify_users, notify() adds two queries a mail: the administrator's login
    # ID for the mail's text and the outbox row.)
    with django_assert_max_num_queries(11):
        result = run(contract_a, csv_bytes(rows))
    assert result.created == lines


class TestTemplate:
    """The template file: the column names and an example line; the example line
    left as it was is skipped, whatever is written below it."""

    @pytest.mark.parametrize("language", ["ja", "en"])
    def test_lines_written_below_the_example_are_created_without_it(self, contract_a, language):
        with translation.override(language):
            content = csv_format.template()
        result = run(contract_a, content + csv_bytes(GOOD, newline="\r\n"))
        assert (result.problems, result.lines, result.created) == ([], 3, 3)
        assert imported(contract_a) == GOOD_IDS

    def test_the_example_passes_every_rule_once_it_is_changed(self, contract_a):
        login_id, password, _email = csv_format.TEMPLATE_EXAMPLE
        result = run(contract_a, csv_bytes([(login_id, password, "sato@example.jp")]))
        assert (result.problems, result.created) == ([], 1)
        assert imported(contract_a) == [login_id]

    def test_the_template_as_downloaded_creates_nothing_and_says_why(self, contract_a):
        result = run(contract_a, csv_format.template())
        assert imported(contract_a) == []
        assert "記入例の行のほかに、データがありません" in messages(result)

    def test_the_example_line_is_skipped_wherever_it_is(self, contract_a):
        example = ",".join(csv_format.TEMPLATE_EXAMPLE)
        content = csv_bytes([GOOD[0], f" {example} ", *GOOD[1:]])
        assert csv_format.read(content).skipped == [2]
        result = run(contract_a, content)
        assert (result.problems, result.lines, result.created) == ([], 3, 3)
        assert imported(contract_a) == GOOD_IDS
