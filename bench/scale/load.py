"""The load of `make scale`: every contract's administrator at once, each in a thread
of its own, doing what the guide's screens are for, over real HTTP on 127.0.0.1:

1. sign in; 利用者ID一覧;
2. create USERS_BY_FORM user IDs on 利用者ID新規作成 (each mailed to its user);
3. CSVインポート of IMPORTED user IDs (mailed too), following the job to its end, and
   starting it again if its worker died (as an administrator would);
4. 端末認証キー一覧; a key issued for four of the new user IDs (each mailed);
5. one user signs in from a browser with the key from the mail and opens ホーム
   (the device check on every request); two apps register with theirs
   (POST /api/oauth/token) and the storage service introspects their tokens;
6. 停止 of an app's key while another thread introspects its token: the time from
   the click to the first refusal; 再発行 of the other app's key (its token ends);
   停止 of the browser's key (ホーム refuses);
7. two user IDs deleted; ログ管理.

Each contract works on one gunicorn instance and its users and apps on the other, so
that what one instance writes, the other enforces. A "near full" contract (990 user
IDs and keys) is worked on by two sessions at once, one per instance, which both
try to pass the 999 limit.

A request whose connection fails (its instance was killed) is counted; a page is
asked again of the other instance (what a load balancer does); a form that was
sent is not sent again, and its outcome is recorded as unknown for the checks.
"""

import base64
import http.client
import json
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from bench.timing import percentile

USERS_BY_FORM = 6
IMPORTED = 15
HOME_VISITS = 10
INTROSPECTIONS = 20
GRANT_TYPE = "urn:azukeru:params:oauth:grant-type:device-key"
KEY_IN_MAIL = re.compile(r"端末認証キー: ([A-Za-z0-9]{8})")
LOST = (ConnectionError, http.client.HTTPException, TimeoutError, OSError)


class Lost(Exception):
    """A request sent, whose answer never came: its instance died."""


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("location", "")).path

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Record:
    """Every request's kind, status and time; what each contract was told."""

    requests: list = field(default_factory=list)  # (kind, status, seconds, at)
    lost: int = 0
    unexpected: list = field(default_factory=list)
    contracts: dict = field(default_factory=dict)
    stop_to_refusal: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def contract(self, admin: str, contract_id: int) -> dict:
        return self.contracts.setdefault(
            admin,
            {
                "contract_id": contract_id,
                **{
                    name: []
                    for name in (
                        "users_created",
                        "users_imported",
                        "users_import_unknown",
                        "imports_succeeded",
                        "users_unknown",
                        "users_deleted",
                        "users_deleted_unknown",
                        "keys_issued",
                        "keys_unknown",
                        "keys_stopped",
                        "keys_reissued",
                        "keys_changed_unknown",
                    )
                },
            },
        )

    def wrong(self, what: str) -> None:
        with self.lock:
            self.unexpected.append(what)

    def figures(self, seconds: float) -> dict:
        kinds = defaultdict(list)
        for kind, _status, spent, _at in self.requests:
            kinds[kind].append(spent * 1000)
        return {
            "requests": len(self.requests),
            "seconds": round(seconds, 1),
            "per_second": round(len(self.requests) / seconds, 1),
            "errors_5xx": sum(status >= 500 for _k, status, _s, _a in self.requests),
            "connections_lost": self.lost,
            "kinds": {
                kind: {
                    "count": len(times),
                    "p50": round(percentile(times, 50), 1),
                    "p95": round(percentile(times, 95), 1),
                    "p99": round(percentile(times, 99), 1),
                }
                for kind, times in sorted(kinds.items())
            },
            "stop_to_refusal_ms": {
                "count": len(self.stop_to_refusal),
                "p50": round(percentile(self.stop_to_refusal, 50), 1),
                "max": round(max(self.stop_to_refusal, default=0), 1),
            },
        }


class Client:
    """One browser or app: its cookies, and the instance it talks to (the other one
    when that one does not answer)."""

    def __init__(self, instances: list[str], first: int, record: Record):
        self.instances = instances
        self.current = first % len(instances)
        self.record = record
        self.cookies: dict[str, str] = {}

    def send(self, kind, method, path, *, form=None, body=None, headers=None, again=None):
        """The answer to one request. A GET is asked of the other instance when its
        connection fails; a form is not sent twice (Lost)."""
        again = method == "GET" if again is None else again
        headers = {"Accept-Language": "ja", **(headers or {})}
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(12):
            started = time.monotonic()
            try:
                answer = self._once(method, path, body, headers)
            except LOST:
                with self.record.lock:
                    self.record.lost += 1
                self.current = (self.current + 1) % len(self.instances)
                if not again:
                    raise Lost(f"{method} {path}") from None
                time.sleep(0.25 * (attempt + 1))
                continue
            spent = time.monotonic() - started
            self.record.requests.append((kind, answer.status, spent, started))
            if answer.status >= 500:
                self.record.wrong(f"{answer.status} on {method} {path}")
            return answer
        raise Lost(f"{method} {path}: no instance answered")

    def _once(self, method, path, body, headers) -> Answer:
        connection = http.client.HTTPConnection(self.instances[self.current], timeout=60)
        try:
            if self.cookies:
                headers = {
                    **headers,
                    "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                }
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _sep, attributes = value.partition(";")
                    key, _eq, val = cookie.partition("=")
                    if "max-age=0" in attributes.lower() or val == '""':
                        self.cookies.pop(key.strip(), None)
                    else:
                        self.cookies[key.strip()] = val.strip()
            return Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, content
            )
        finally:
            connection.close()

    def post_form(self, kind, path, form, *, again=False) -> Answer:
        token = self.cookies.get("csrftoken", "")
        return self.send(
            kind, "POST", path, form={"csrfmiddlewaretoken": token, **form}, again=again
        )

    def sign_in(self, login_id: str, password: str) -> str:
        """Where the sign-in leads (a path); a sign-in may be sent again."""
        self.send("サインイン画面", "GET", "/login/")
        answer = self.post_form(
            "サインイン", "/login/", {"username": login_id, "password": password}, again=True
        )
        if answer.status != 302:
            self.record.wrong(f"sign-in of {login_id}: {answer.status}")
        return answer.location


class Tenant:
    """One contract's administrator, its user IDs' browsers and apps."""

    def __init__(self, run, admin: str, contract_id: int, first: int):
        self.run = run
        self.admin = admin
        self.password = run.seed["password"]
        self.ledger = run.record.contract(admin, contract_id)
        self.console = Client(run.instances, first, run.record)
        self.first = first
        self.tag = f"{contract_id:03d}"
        self.users: dict[str, int] = {}  # login ID: pk, of the user IDs made here

    def __call__(self):
        try:
            self.work()
        except Lost as lost:
            self.run.record.wrong(f"{self.admin}: gave up after a lost request ({lost})")
        except Exception as error:  # reported, never hidden
            self.run.record.wrong(f"{self.admin}: {type(error).__name__}: {error}")

    def work(self):
        console = self.console
        console.sign_in(self.admin, self.password)
        console.send("利用者ID一覧", "GET", "/console/users/")
        made = [self.create_user(n) for n in range(1, USERS_BY_FORM + 1)]
        made = [login_id for login_id in made if login_id]
        self.import_users()
        console.send("利用者ID一覧", "GET", "/console/users/")
        console.send("端末認証キー一覧", "GET", "/console/device-keys/")
        names = {login_id: self.issue_key(login_id) for login_id in made[:4]}
        keys = {
            login_id: self.key_from_mail(login_id, name) for login_id, name in names.items() if name
        }
        owners = [login_id for login_id in made[:4] if keys.get(login_id)]
        if len(owners) < 3:
            self.run.record.wrong(f"{self.admin}: only {len(owners)} keys arrived by mail")
            return
        browser_user, stopped_user, reissued_user = owners[:3]
        browser = self.browser_signs_in(browser_user, keys[browser_user])
        # An app whose registration's answer was lost to a kill is left out from here.
        tokens = {
            login_id: token
            for login_id in (stopped_user, reissued_user)
            if (token := self.app_registers(login_id, keys[login_id]))
        }
        for token, _key_id in tokens.values():
            for _ in range(INTROSPECTIONS):
                self.introspect(token, expect=True)
        if stopped_user in tokens:
            token, key_id = tokens[stopped_user]
            self.stop_and_time(names[stopped_user], key_id, token)
        if reissued_user in tokens:
            token, key_id = tokens[reissued_user]
            path = f"/console/device-keys/{key_id}/reissue/"
            name = names[reissued_user]
            if self.submit("再発行", path, {}, name, "keys_changed_unknown", "changes_refused"):
                self.ledger["keys_reissued"].append(name)
                self.introspect(token, expect=False)
        if browser is not None:
            self.stop_browser(browser, browser_user, names[browser_user])
        for login_id in made[4:6]:
            self.delete_user(login_id)
        console.send("ログ管理", "GET", "/console/logs/")

    # --- 利用者ID ------------------------------------------------------------------

    def login_id(self, n: int) -> str:
        return f"s{self.tag}-{n:02d}-{secrets.token_hex(3)}"

    def create_user(self, n: int) -> str | None:
        login_id = self.login_id(n)
        self.console.send("利用者ID新規作成画面", "GET", "/console/users/new/")
        form = {
            "login_id": login_id,
            "password": self.password,
            "password_confirm": self.password,
            "email": f"{login_id}@example.jp",
            "email_confirm": f"{login_id}@example.jp",
            "display_name": f"利用者{n}",
            "notify_user": "on",
            "create": "1",
        }
        answer = self.submit(
            "利用者ID作成", "/console/users/new/", form, login_id, "users_unknown", "refused"
        )
        if answer is None:
            return None
        self.users[login_id] = int(answer.location.strip("/").split("/")[-2])
        self.ledger["users_created"].append(login_id)
        return login_id

    def delete_user(self, login_id: str) -> None:
        path = f"/console/users/{self.users[login_id]}/delete/"
        self.console.send("利用者ID削除確認", "GET", path)
        try:
            answer = self.console.post_form("利用者ID削除", path, {})
        except Lost:
            self.ledger["users_deleted_unknown"].append(login_id)
            return
        if answer.status == 302:
            self.ledger["users_deleted"].append(login_id)
        else:
            self.run.record.wrong(f"{self.admin}: delete of {login_id} answered {answer.status}")

    def import_users(self) -> None:
        rows = [self.login_id(100 + n) for n in range(IMPORTED)]
        content = "".join(f"{row},{self.password},{row}@example.jp\r\n" for row in rows)
        for _attempt in range(3):
            self.console.send("CSVインポート画面", "GET", "/console/users/import/")
            try:
                job = self.upload(content.encode())
            except Lost:
                self.ledger["users_import_unknown"].extend(rows)
                return
            if job is None:
                return
            self.run.count("imports uploaded")
            progress = f"/console/users/import/{job}/progress/"
            deadline = time.monotonic() + 300
            state = {}
            while time.monotonic() < deadline:
                state = self.console.send("CSVインポート進捗", "GET", progress).json()
                if not state["active"]:
                    break
                if state.get("status") == "running":
                    self.run.running_seen_at = time.monotonic()
                time.sleep(0.5)
            if state.get("status") == "succeeded" and state["users_created"] == len(rows):
                self.ledger["users_imported"].extend(rows)
                self.ledger["imports_succeeded"].append(job)
                self.run.count("imports")
                return
            if state.get("status") != "failed":
                self.run.record.wrong(f"{self.admin}: import ended {state}")
                return
            self.run.count("imports started again after a worker died")
        self.run.record.wrong(f"{self.admin}: import failed three times")

    def upload(self, content: bytes) -> int | None:
        boundary = uuid.uuid4().hex
        token = self.console.cookies.get("csrftoken", "")
        parts = []
        for name, value in (
            ("csrfmiddlewaretoken", token),
            ("encoding", "auto"),
            ("notify_users", "on"),
        ):
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            )
        body = (
            "".join(parts).encode()
            + (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="users.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        answer = self.console.send(
            "CSVインポート", "POST", "/console/users/import/", body=body, headers=headers
        )
        if answer.status != 302 or "/import/" not in answer.location:
            self.run.record.wrong(f"{self.admin}: upload answered {answer.status}")
            return None
        return int(answer.location.strip("/").split("/")[-1])

    # --- 端末認証キー ----------------------------------------------------------------

    def issue_key(self, login_id: str, suffix: str = "") -> str | None:
        name = f"scale-{login_id}{suffix}"  # unique in the run, as its login ID is
        self.console.send("端末認証キー新規発行画面", "GET", "/console/device-keys/issue/")
        form = {"user": self.users[login_id], "device_name": name}
        path = "/console/device-keys/issue/"
        if self.submit("端末認証キー発行", path, form, name, "keys_unknown", "keys_refused"):
            self.ledger["keys_issued"].append(name)
            return name
        return None

    def submit(self, kind, path, form, name, unknown, refused) -> Answer | None:
        """A form the administrator sends: its answer when it was done (302); None when
        it was refused (`name` goes to the ledger's list `refused`) or its answer was
        lost to a kill (to `unknown`: the checks accept it either way)."""
        try:
            answer = self.console.post_form(kind, path, form)
        except Lost:
            self.ledger[unknown].append(name)
            return None
        if answer.status != 302:
            self.ledger.setdefault(refused, []).append(name)
            return None
        return answer

    def key_from_mail(self, login_id: str, name: str) -> str | None:
        text = self.run.sink.wait_for(f"{login_id}@example.jp", f"端末名: {name}", timeout=120)
        found = KEY_IN_MAIL.search(text or "")
        return found.group(1) if found else None

    def browser_signs_in(self, login_id: str, key: str) -> Client | None:
        browser = Client(self.run.instances, self.first + 1, self.run.record)
        if browser.sign_in(login_id, self.password) != "/login/device/":
            self.run.record.wrong(f"{login_id}: sign-in did not ask for the key")
            return None
        browser.send("端末認証キー入力画面", "GET", "/login/device/")
        try:
            answer = browser.post_form("端末認証キー入力", "/login/device/", {"key": key})
        except Lost:  # registered or not: this browser is left out
            return None
        if answer.status != 302:
            self.run.record.wrong(f"{login_id}: the key from the mail was refused")
            return None
        for _ in range(HOME_VISITS):
            if browser.send("ホーム (端末認証)", "GET", "/home/").status != 200:
                self.run.record.wrong(f"{login_id}: ホーム refused a registered browser")
        return browser

    def stop_browser(self, browser: Client, login_id: str, name: str) -> None:
        listing = self.console.send(
            "端末認証キー一覧", "GET", f"/console/device-keys/?login_id={login_id}"
        )
        found = re.search(rb"/console/device-keys/(\d+)/stop/", listing.body)
        if not found:
            self.run.record.wrong(f"{login_id}: no 停止 button for the browser's key")
            return
        path = f"/console/device-keys/{int(found[1])}/stop/"
        if not self.submit("停止", path, {}, name, "keys_changed_unknown", "changes_refused"):
            return
        self.ledger["keys_stopped"].append(name)
        if browser.send("ホーム (端末認証)", "GET", "/home/").status == 200:
            self.run.record.wrong(f"{login_id}: ホーム still open after 停止")

    def app_registers(self, login_id: str, key: str) -> tuple[str, int] | None:
        """The app's token and its key's id; None when the answer was lost to a kill
        (the registration may have happened: a second try would be refused)."""
        app = Client(self.run.instances, self.first + 1, self.run.record)
        form = {
            "grant_type": GRANT_TYPE,
            "client_id": "ios",
            "username": login_id,
            "password": self.password,
            "device_key": key,
        }
        try:
            answer = app.send("API token", "POST", "/api/oauth/token", form=form)
        except Lost:
            return None
        if answer.status != 200:
            raise RuntimeError(f"{login_id}: token answered {answer.status} {answer.body[:200]}")
        token = answer.json()["access_token"]
        return token, self.introspect(token, expect=True)["device_key_id"]

    def introspect(self, token: str, *, expect: bool) -> dict:
        found = self.run.introspection(self.first + 1, token)
        if found["active"] is not expect:
            self.run.record.wrong(f"introspection said {found['active']}, not {expect}")
        return found

    def stop_and_time(self, name: str, key_id: int, token: str) -> None:
        """停止 on this contract's instance while the storage service asks the other
        about the token: milliseconds from the click to the first refusal."""
        clicked, lost = threading.Event(), threading.Event()
        refused_at = []

        def watch():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not lost.is_set():
                active = self.run.introspection(self.first + 1, token)["active"]
                if clicked.is_set() and not active:
                    refused_at.append(time.monotonic())
                    return

        watcher = threading.Thread(target=watch)
        watcher.start()
        time.sleep(0.05)
        started = time.monotonic()
        clicked.set()
        path = f"/console/device-keys/{key_id}/stop/"
        done = self.submit("停止", path, {}, name, "keys_changed_unknown", "changes_refused")
        if not done:  # lost to a kill (or refused: reported by the checks)
            lost.set()
            watcher.join()
            return
        watcher.join()
        self.ledger["keys_stopped"].append(name)
        if refused_at:
            with self.run.record.lock:
                self.run.record.stop_to_refusal.append((refused_at[0] - started) * 1000)
        else:
            self.run.record.wrong(f"{self.admin}: a stopped key stayed active for 60 s")


class NearFull(Tenant):
    """One of two sessions of a "near full" contract: user IDs and keys past the limit."""

    def work(self):
        self.console.sign_in(self.admin, self.password)
        made = [self.create_user(n) for n in range(1, 7)]
        for login_id in filter(None, made):
            self.issue_key(login_id)
        for login_id in filter(None, made):
            self.issue_key(login_id, "b")


class Run:
    """The load on `instances` (host:port): every tenant's thread, all at once."""

    def __init__(self, seed: dict, instances: list[str], sink):
        self.seed = seed
        self.instances = instances
        self.sink = sink
        self.record = Record()
        self.counts: dict[str, int] = defaultdict(int)
        client = seed["api_client"]
        self.basic = (
            "Basic " + base64.b64encode(f"{client['id']}:{client['secret']}".encode()).decode()
        )
        self._storage = threading.local()
        self.running_seen_at = 0.0  # when a progress poll last saw an import running

    def count(self, what: str) -> None:
        with self.record.lock:
            self.counts[what] += 1

    def introspection(self, first: int, token: str) -> dict:
        """What the storage service is told of `token` (its client: one per thread)."""
        if not hasattr(self._storage, "client"):
            self._storage.client = Client(self.instances, first, self.record)
        answer = self._storage.client.send(
            "API introspect",
            "POST",
            "/api/oauth/introspect",
            form={"token": token},
            headers={"Authorization": self.basic},
            again=True,
        )
        return answer.json()

    def threads(self) -> list[threading.Thread]:
        tenants = [
            Tenant(self, row["admin"], row["contract_id"], n)
            for n, row in enumerate(self.seed["contracts"])
        ]
        for row in self.seed["near_full"]:
            ledger = self.record.contract(row["admin"], row["contract_id"])
            ledger["expect_users"] = ledger["expect_keys"] = 999
            tenants += [NearFull(self, row["admin"], row["contract_id"], n) for n in range(2)]
        return [
            threading.Thread(target=tenant, name=tenant.admin, daemon=True) for tenant in tenants
        ]
