"""The console in a real browser: Debian's Chromium driven by Playwright against
pytest-django's live server.

One Chromium for the whole folder, a new browser context (cookies, storage) for
each test: a test starts signed out, as a person opening a new browser would.
Playwright's own browser download is never used: the browser is
/usr/bin/chromium (`make test` installs Debian's package when it is missing and
runs as root). Without it the tests are skipped with the reason, except under
CI=true, where they fail.

Playwright's sync API keeps an asyncio event loop marked as running in the test
thread for as long as it is started, and Django refuses ORM calls in a thread
with a running loop (SynchronousOnlyOperation). The ORM calls of these tests
(fixtures, the task worker of the import test) are ordinary blocking code in the
test thread, never run on that loop, so DJANGO_ALLOW_ASYNC_UNSAFE is set while
Playwright is started, for this folder only, and removed when it stops (the
loop is then gone too). The live server answers from threads of its own.
"""

import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.conftest import task_backend

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


def _no_browser(reason: str):
    message = (
        f"!!! The end-to-end tests did NOT run: {reason}. Install Debian's chromium "
        "(`make test` does it as root), or set CHROMIUM to another Chromium."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the tests of this folder."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _no_browser(f"no Chromium at {CHROMIUM}")
    allowed_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
        except PlaywrightError as error:
            _no_browser(f"Chromium at {CHROMIUM} did not start ({error.message.splitlines()[0]})")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if allowed_before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed_before


@pytest.fixture
def new_context(browser, live_server, settings):
    """Open another browser context: another person's browser, with cookies of its own.
    Japanese is the browser's language, as for the console's administrators. The live
    server is the site: links in mails lead to it (SITE_URL)."""
    settings.SITE_URL = live_server.url
    contexts = []

    def open_context(**options):
        options = {"viewport": DESKTOP, "locale": "ja-JP", **options}
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        # The console has no icon; the browser's own request for one would reach the
        # live server at any moment (see browsing.ProgressRequests).
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(new_context):
    """Open a page in a new browser context. Every page fails its test at the end
    when a script of the console threw, or the Content Security Policy refused
    something (the console needs no exception to it)."""
    problems = []

    def open_page(**options):
        page = new_context(**options).new_page()
        page.on("pageerror", lambda error: problems.append(f"{page.url}: script error: {error}"))
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and problems.append(f"{page.url}: refused by the CSP: {message.text}")
            ),
        )
        return page

    yield open_page
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_page):
    """The browser of the test's main person (the administrator, mostly)."""
    return new_page()


@pytest.fixture
def task_worker(settings):
    """Tasks wait in the database, as in production, until the test runs the worker:
    `manage.py db_worker --batch` takes every waiting task, then stops. (Elsewhere
    tasks run at once, on the ImmediateBackend of tests/conftest.py.)"""
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")

    def run():
        call_command(
            "db_worker",
            queue_name="*",
            batch=True,
            startup_delay=False,
            reload=False,
            stdout=io.StringIO(),
        )

    return run
