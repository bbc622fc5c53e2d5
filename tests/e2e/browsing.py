"""What the end-to-end tests do with a page, as a person would, and what every page
of the flows must pass.

    sign_in(page, "admin-a")
    open_menu_item(page, "利用者ID管理")
    check_page(page, screenshot="user-list")

`check_page` runs axe-core (no serious or critical violation), checks that every
form control has a label, and that the page fits (`fit_problems`): no sideways
scroll at 1280 px nor on a 375 px wide phone, no table cell cut at 1280 px, no
badge or address broken over two lines, none of the console's words broken inside.
With SCREENSHOTS=1 it also saves the named screenshots of the README into
docs/screenshots/.
"""

import base64
import os
import re
import time
from pathlib import Path

from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent.parent / "docs" / "screenshots"
# axe-core, the file of its npm package as published (vendor/README.md).
AXE_SOURCE = (HERE / "vendor" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING_IMPACTS = {"serious", "critical"}
DESKTOP_WIDTH = 1280
PHONE_WIDTH = 375

_RUN_AXE = """async () => {
  const results = await axe.run(document, {
    resultTypes: ["violations"],
    rules: { "target-size": { enabled: true } },  // WCAG 2.2 AA 2.5.8, off by default
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""

_UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && el.getClientRects().length > 0)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                  && !el.getAttribute("aria-labelledby"))
  .map((el) => el.outerHTML.slice(0, 160))"""


# What does not fit the screen: the page wider than the window; at the desktop width,
# a table cell or a table's box whose content is wider than itself (a column cut, or
# a table to scroll sideways); at any width, a badge, a status or an address whose
# text runs over two lines, and the console's own words (headings, labels, buttons,
# help) broken over two lines inside a word: a line ends where the page's language
# (Intl.Segmenter) sees no word boundary. Data (a login ID, a mail address in a cell)
# may break anywhere where it must.
_OWN_WORDS = (
    "th, label:not(td label), legend, h1, h2, h3, dt, button, .button, summary, .words,"
    " .tile, .help, .lead, .count, .steps"
)
_FIT_PROBLEMS = """([desktop, ownWords]) => {
  const name = (el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
    + " " + JSON.stringify(el.innerText.trim().replace(/\\s+/g, " ").slice(0, 40));
  const lines = (el) => {
    const rects = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest(".visually-hidden")) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      rects.push(...[...range.getClientRects()].filter((r) => r.width > 0));
    }
    rects.sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 2) { count += 1; bottom = r.bottom; }
      else bottom = Math.max(bottom, r.bottom);
    }
    return count;
  };
  const problems = [];
  const width = document.documentElement.scrollWidth;
  if (width > innerWidth) problems.push(`the page is ${width}px wide`);
  if (desktop) {
    for (const el of document.querySelectorAll("th, td, .table-scroll")) {
      if (el.scrollWidth > el.clientWidth) {
        problems.push(`${name(el)} is cut: ${el.scrollWidth}px in ${el.clientWidth}px`);
      }
    }
  }
  for (const el of document.querySelectorAll(".role, .status, .ip-address, .device-key")) {
    if (el.getClientRects().length && lines(el) > 1) problems.push(`${name(el)} is broken`);
  }
  const words = new Intl.Segmenter(document.documentElement.lang, { granularity: "word" });
  const range = document.createRange();
  for (const el of document.querySelectorAll(ownWords)) {
    if (!el.checkVisibility()) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      if (!text.trim() || node.parentElement.closest(".visually-hidden")) continue;
      const boundaries = new Set([...words.segment(text)].map((s) => s.index));
      let before = null;
      for (let i = 0; i < text.length; i++) {
        if (/\\s/.test(text[i])) { before = null; continue; }
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        if (before && box.top >= before.bottom - 1 && !boundaries.has(i)) {
          problems.push(`${name(el)} is broken inside a word: `
            + JSON.stringify(text.slice(Math.max(0, i - 8), i) + "|" + text.slice(i, i + 8)));
        }
        before = box;
      }
    }
  }
  return problems;
}"""


def sign_in(page: Page, login_id: str, password: str = PASSWORD) -> None:
    """The sign-in page, filled in and sent as a person does (in Japanese)."""
    page.goto("/login/")
    field(page, "ログインID").fill(login_id)
    field(page, "パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def field(page: Page, label: str):
    """The form control of that label, whether or not 必須 follows the label."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s|$)"))


def open_menu_item(page: Page, item: str) -> None:
    """The menu at the top right: open it, choose the item."""
    page.get_by_text("メニュー", exact=True).click()
    page.locator(".menu-list").get_by_role("link", name=item).click()


def message(page: Page):
    """The message the page shows after an action (the frame's status list)."""
    return page.locator(".messages")


class ProgressRequests:
    """The CSV import's page asks for its progress every second, on its own. On
    SQLite the live server shares the test's in-memory database connection, so such
    a request must never run while the test itself works with the database (the
    task worker, a fixture). Once a page is held, its progress requests go to the
    server only while the test works with that page (Playwright answers the route
    then), and `settle` waits until none is on its way."""

    def __init__(self, page: Page):
        self.page = page
        self.on_the_way = 0
        page.route("**/progress/", self._pass_on)

    def _pass_on(self, route) -> None:
        self.on_the_way += 1
        try:
            route.fulfill(response=route.fetch())
        finally:
            self.on_the_way -= 1

    def settle(self) -> None:
        while self.on_the_way:
            self.page.wait_for_timeout(20)


def key_from_mail(mail) -> str:
    """The device key written in a key mail (発行 or 再発行)."""
    found = re.search(r"端末認証キー: ([A-Za-z0-9]{8})", mail.body)
    assert found, mail.body
    return found.group(1)


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations of the page as it is now. The script goes in through
    the DevTools protocol, which the page's Content Security Policy does not govern,
    so the console's CSP stays as strict in the tests as in production."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(_RUN_AXE)


def check_page(page: Page, *, screenshot: str | None = None) -> None:
    """What every page of the flows must pass (see the module's docstring)."""
    page.wait_for_load_state()  # the stylesheet too: axe checks the colours
    expect(page.locator("main")).to_be_visible()
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {page.url}:\n" + "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in blocking
    )
    unlabelled = page.evaluate(_UNLABELLED_CONTROLS)
    assert not unlabelled, f"form controls without a label on {page.url}: {unlabelled}"
    problems = fit_problems(page)
    assert not problems, f"{page.url} does not fit:\n" + "\n".join(problems)
    if screenshot and os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{screenshot}.png", animations="disabled")


def fit_problems(page: Page) -> list[str]:
    """What does not fit (_FIT_PROBLEMS) at 1280 px and at 375 px, the window's width
    set back afterwards. The window's height stays: only the width moves the layout."""
    size = page.viewport_size
    problems = []
    try:
        for width in (DESKTOP_WIDTH, PHONE_WIDTH):
            if page.viewport_size["width"] != width:
                page.set_viewport_size({"width": width, "height": size["height"]})
            found = page.evaluate(_FIT_PROBLEMS, [width == DESKTOP_WIDTH, _OWN_WORDS])
            problems += [f"at {width}px: {problem}" for problem in found]
    finally:
        if page.viewport_size != size:
            page.set_viewport_size(size)
    return problems


def totp_code(secret: str, *, steps_later: int = 0) -> str:
    """What an authenticator app shows for this secret (base32, grouped as the page
    shows it); steps_later=1 is the next code (a code is accepted once)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() + totp.step * steps_later
    return f"{totp.token():06d}"
