"""user_create, user_change, user_delete: the rules, the limit, the mails."""

from functools import partial

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from accounts import services
from accounts.exceptions import UserNotFound
from accounts.models import Contract, Role, User
from core.exceptions import LimitReached
from tests.conftest import PASSWORD, SETUP
from tests.parallel import at_the_same_moment, on_postgresql


def create(contract, login_id="sato01", **fields):
    fields.setdefault("password", PASSWORD)
    fields.setdefault("email", f"{login_id}@example.jp")
    return services.user_create(contract=contract, actor=SETUP, login_id=login_id, **fields)


def field_errors(error: ValidationError) -> dict:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


class TestCreate:
    def test_creates_a_user_id_with_every_field(self, contract_a):
        user = create(
            contract_a,
            " sato01 ",
            email="sato@example.jp",
            display_name="佐藤 花子",
            title="課長",
            department="営業本部",
            phone="03-1234-5678",
        )
        user.refresh_from_db()
        assert user.login_id == "sato01"  # trimmed
        assert user.role == Role.USER
        assert user.contract == contract_a
        assert user.nickname == "sato@example.jp"
        assert (user.display_name, user.title, user.department, user.phone) == (
            "佐藤 花子",
            "課長",
            "営業本部",
            "03-1234-5678",
        )
        assert check_password(PASSWORD, user.password)

    def test_sixteen_full_width_characters_fit(self, contract_a):
        user = create(contract_a, display_name="あ" * 16, title="い" * 16, department="う" * 16)
        assert user.display_name == "あ" * 16

    def test_seventeen_do_not(self, contract_a):
        with pytest.raises(ValidationError) as error:
            create(contract_a, display_name="あ" * 17, title="い" * 17, department="う" * 17)
        assert set(error.value.error_dict) == {"display_name", "title", "department"}

    def test_each_field_reports_its_own_errors_at_once(self, contract_a):
        with pytest.raises(ValidationError) as error:
            create(contract_a, "ab", password="abcd", email="not-mail", phone="03(1234)")
        errors = field_errors(error.value)
        assert errors["login_id"] == ["login_id_length"]
        assert "password_length" in errors["password"]
        assert "password_run" in errors["password"]
        assert set(errors) == {"login_id", "password", "email", "phone"}
        assert not User.objects.filter(role=Role.USER).exists()

    def test_login_id_taken_in_another_contract_in_another_case(self, contract_a, users_b):
        with pytest.raises(ValidationError) as error:
            create(contract_a, "JIRO-B")
        assert field_errors(error.value) == {"login_id": ["login_id_taken"]}

    def test_login_id_of_an_administrator_is_taken_too(self, contract_a, admin_b):
        with pytest.raises(ValidationError):
            create(contract_a, "Admin-B")

    def test_password_must_not_contain_the_login_id(self, contract_a):
        with pytest.raises(ValidationError) as error:
            create(contract_a, "hana", password="Xq7HANA9z")
        assert field_errors(error.value) == {"password": ["password_login_id"]}

    def test_dry_run_checks_but_creates_nothing(self, contract_a):
        user = create(contract_a, dry_run=True)
        assert user.pk is None
        assert not User.objects.filter(login_id="sato01").exists()


class TestLimit:
    @pytest.fixture
    def contract_at(self, contract_a, fill_contract):
        return lambda count: fill_contract(contract_a, count)

    def test_the_999th_is_created_and_the_1000th_refused(self, contract_at):
        contract = contract_at(Contract.USER_LIMIT - 1)
        create(contract, "last-one")
        with pytest.raises(LimitReached) as refused:
            create(contract, "one-too-many")
        assert "999個まで" in str(refused.value)
        assert User.objects.for_contract(contract).users().count() == Contract.USER_LIMIT

    def test_the_administrator_is_not_counted(self, contract_at, admin_a):
        contract = contract_at(Contract.USER_LIMIT - 1)
        assert create(contract, "last-one").pk

    def test_another_contracts_users_are_not_counted(self, contract_at, contract_b):
        contract_at(Contract.USER_LIMIT)
        assert create(contract_b, "b-still-fine").pk

    @on_postgresql("SQLite serialises writers with one database lock; the row lock is PostgreSQL's")
    def test_twenty_simultaneous_creations_at_990_end_at_exactly_999(self, contract_at):
        contract = contract_at(990)
        outcomes = at_the_same_moment(
            *(partial(create, contract, f"race-{n:02d}") for n in range(20))
        )
        outcomes = [
            "created" if isinstance(o, User) else "limit" if isinstance(o, LimitReached) else o
            for o in outcomes
        ]

        assert outcomes.count("created") == 9
        assert outcomes.count("limit") == 11
        assert User.objects.for_contract(contract).users().count() == 999


class TestMails:
    def test_created_mail_goes_to_the_address_when_ticked(
        self, contract_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            create(contract_a, "sato01", email="sato@example.jp", notify_user=True)
        assert [m.to for m in mailoutbox] == [["sato@example.jp"]]
        assert "sato01" in mailoutbox[0].body
        assert PASSWORD not in mailoutbox[0].body

    def test_no_mail_when_not_ticked(
        self, contract_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            create(contract_a, notify_user=False)
        assert mailoutbox == []

    def test_changed_mail_lists_fields_and_says_password_changed_without_it(
        self, contract_a, users_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        taro = users_a[0]
        with django_capture_on_commit_callbacks(execute=True):
            changed = services.user_change(
                contract=contract_a,
                actor=SETUP,
                user=taro,
                login_id=taro.login_id,
                email=taro.email,
                title="部長",
                password="Zr8wKq3Xv6",
                notify_user=True,
            )
        assert changed == ["title", "password"]
        assert len(mailoutbox) == 1
        assert "Zr8wKq3Xv6" not in mailoutbox[0].body

    def test_delete_always_mails(
        self, contract_a, users_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.user_delete(contract=contract_a, actor=SETUP, user=users_a[0])
        assert [m.to for m in mailoutbox] == [[users_a[0].email]]

    def test_a_refused_creation_sends_nothing(
        self, contract_a, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            create(contract_a, "ab")
        assert mailoutbox == []


class TestChange:
    def change(self, user, **fields):
        values = {name: getattr(user, name) for name in ("login_id", "email")}
        values.update(fields)
        return services.user_change(contract=user.contract, actor=SETUP, user=user, **values)

    def test_blank_password_keeps_the_password(self, users_a):
        taro = users_a[0]
        old_hash = taro.password
        assert self.change(taro, department="総務部") == ["department"]
        taro.refresh_from_db()
        assert taro.password == old_hash
        assert taro.department == "総務部"

    def test_new_password_must_follow_the_rules(self, users_a):
        with pytest.raises(ValidationError) as error:
            self.change(users_a[0], password="abcd1234")
        assert "password_run" in field_errors(error.value)["password"]

    def test_login_id_may_change_but_stays_unique(self, users_a, users_b):
        with pytest.raises(ValidationError):
            self.change(users_a[0], login_id="Jiro-B")
        assert self.change(users_a[0], login_id="taro-new") == ["login_id"]

    def test_keeping_ones_own_login_id_in_another_case_is_allowed(self, users_a):
        assert self.change(users_a[0], login_id="TARO-A") == ["login_id"]

    def test_nothing_changed_saves_nothing(self, users_a):
        assert self.change(users_a[0]) == []

    def test_another_contracts_user_cannot_be_changed(self, contract_a, users_b):
        with pytest.raises(UserNotFound):
            services.user_change(
                contract=contract_a,
                actor=SETUP,
                user=users_b[0],
                login_id="stolen",
                email="x@example.jp",
            )
        users_b[0].refresh_from_db()
        assert users_b[0].login_id == "jiro-b"


class TestDelete:
    def test_deletes_the_user(self, contract_a, users_a):
        services.user_delete(contract=contract_a, actor=SETUP, user=users_a[0])
        assert not User.objects.filter(pk=users_a[0].pk).exists()

    def test_another_contracts_user_cannot_be_deleted(self, contract_a, users_b):
        with pytest.raises(UserNotFound):
            services.user_delete(contract=contract_a, actor=SETUP, user=users_b[0])
        assert User.objects.filter(pk=users_b[0].pk).exists()
