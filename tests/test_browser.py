"""End-to-end test of the chat page: the real app under a real HTTP server, driven by headless Chromium.

Needs Debian's Chromium at /usr/bin/chromium (Playwright never downloads a browser here).
Screenshots of each main step are written to test-output/ at the repository root.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from werkzeug.serving import make_server  # noqa: E402

from policywise.config import Settings  # noqa: E402
from policywise.web import create_app  # noqa: E402

EXAMPLES = Settings().examples

Page = sync_api.Page
expect = sync_api.expect

OUT = Path(__file__).resolve().parents[1] / "test-output"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Records CSP violations the browser reports to the page (they also show up as console errors).
CSP_SPY = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""
# Records every data-state an answer goes through, to prove the answer streamed before it settled.
STATE_SPY = """
() => {
  window.__states = [];
  const seen = (n) => window.__states.push(n.getAttribute("data-state"));
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes") seen(r.target);
      for (const n of r.addedNodes) if (n.nodeType === 1 && n.hasAttribute("data-state")) seen(n);
    }
  }).observe(document.getElementById("log"), {
    subtree: true, childList: true, attributeFilter: ["data-state"],
  });
}
"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    # The whole test session shares this process (several models and indexes): a 512 MB budget would
    # read as memory pressure and the page would be told "overloaded".
    app = create_app(
        {
            "warm_up": False,
            "analytics_db": tmp / "a.sqlite3",
            "vector_store_path": bundled_index,
            "memory_limit_mb": 8192.0,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="policywise-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    OUT.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page plus the console errors and page errors it produced."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def assert_clean(self, allow: str | None = None) -> None:
        errors = [e for e in self.errors if not (allow and re.search(allow, e))]
        assert errors == [], f"console errors: {errors}"
        assert self.page.evaluate("window.__csp") == [], "CSP violations were reported"


def open_page(browser: object, base_url: str, viewport: dict, **kwargs: object) -> Watched:
    context = browser.new_context(viewport=viewport, base_url=base_url, **kwargs)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_SPY)
    watched = Watched(context.new_page())
    watched.page.goto("/")
    return watched


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), animations="disabled")


def ask(page: Page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_home_page_shows_mode_and_examples(browser: object, base_url: str) -> None:
    w = open_page(browser, base_url, DESKTOP)
    page = w.page
    expect(page.locator("#mode-note")).to_contain_text("Offline mode: answers quote the policies")
    examples = page.locator("button.example")
    expect(examples).to_have_count(len(EXAMPLES))
    expect(page.get_by_role("button", name=EXAMPLES[0])).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_visible()
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#send")).to_be_enabled()
    box = page.get_by_label("Your question")
    box.type("First line")
    box.press("Shift+Enter")
    box.type("second line")
    expect(box).to_have_value("First line\nsecond line")
    expect(page.locator(".msg")).to_have_count(0)
    box.fill("")
    shot(page, "01-home-desktop")
    page.set_viewport_size(MOBILE)
    expect(examples.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "02-home-mobile")
    w.assert_clean()
    page.context.close()


def test_answer_streams_with_citations_then_follow_up(browser: object, base_url: str) -> None:
    w = open_page(browser, base_url, DESKTOP)
    page = w.page
    page.evaluate(STATE_SPY)
    with page.expect_request("**/chat") as first_request:
        ask(page, "Can I carry over unused vacation days?")
    assert first_request.value.post_data_json == {
        "message": "Can I carry over unused vacation days?",
        "stream": True,
    }
    expect(page.locator(".msg-user").first).to_have_text(re.compile("Can I carry over unused vacation days"))
    answer = page.locator(".answer").first
    expect(answer).to_have_attribute("data-state", "answered")
    states = page.evaluate("window.__states")
    assert "streaming" in states, f"no streamed text was shown before the final answer: {states}"
    expect(answer.locator(".answer-text")).to_contain_text("carry over")
    expect(page.locator("#send")).to_be_enabled()
    chips = answer.locator("button.chip")
    assert chips.count() >= 1
    expect(chips.first).to_contain_text("Paid Time Off")
    expect(answer.locator("button.cite-ref").first).to_be_visible()
    shot(page, "03-answer-desktop")

    # Expand the first citation: the quoted snippet, title and document link appear.
    chip = chips.first
    expect(chip).to_have_attribute("aria-expanded", "false")
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    panel = page.locator(f"#{chip.get_attribute('aria-controls')}")
    expect(panel).to_be_visible()
    snippet = panel.locator("blockquote.snippet")
    expect(snippet).to_be_visible()
    assert snippet.inner_text().strip()
    expect(answer.locator("button.cite-ref[data-cite='1']").first).to_have_attribute("aria-expanded", "true")

    # Thumbs up is recorded by the server.
    up = answer.get_by_role("button", name="Yes, helpful")
    with page.expect_response("**/feedback") as fb:
        up.click()
    assert fb.value.ok
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".feedback-status")).to_have_text("Thanks for the feedback")
    answer.locator(".answer-footer").scroll_into_view_if_needed()
    shot(page, "04-citation-expanded")

    # "Open in document" lands on the cited section of the policy page (in a new tab).
    link = panel.get_by_role("link", name=re.compile("Open in document"))
    href = link.get_attribute("href") or ""
    assert href.startswith("/documents/pto_policy.md#sec-")
    with page.context.expect_page() as new_page:
        link.click()
    doc = new_page.value
    doc.wait_for_load_state()
    url = urlsplit(doc.url)
    assert url.path == "/documents/pto_policy.md"
    section = doc.locator(f"section#{url.fragment}")
    expect(section).to_have_count(1)
    expect(section).to_be_in_viewport()
    shot(doc, "05-document")
    doc.close()

    # A follow-up carries the conversation id; an off-topic question is shown as out of scope.
    with page.expect_request("**/chat") as second_request:
        ask(page, "What's a good banana bread recipe?")
    body = second_request.value.post_data_json
    assert body["conversation_id"] and re.fullmatch(r"[A-Za-z0-9_-]+", body["conversation_id"])
    off = page.locator(".answer").nth(1)
    expect(off).to_have_attribute("data-state", "out_of_scope")
    expect(off).to_contain_text("I can only answer questions about company policies")
    expect(off.locator(".fb")).to_have_count(0)
    shot(page, "06-out-of-scope")
    w.assert_clean()
    page.context.close()


def test_mobile_example_question(browser: object, base_url: str) -> None:
    w = open_page(browser, base_url, MOBILE, is_mobile=True, has_touch=True, color_scheme="dark")
    page = w.page
    page.get_by_role("button", name=EXAMPLES[-1]).click()
    answer = page.locator(".answer").first
    expect(answer).to_have_attribute("data-state", "answered")
    expect(page.locator("#welcome")).to_be_hidden()
    answer.locator("button.chip").first.click()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    answer.locator(".cite-panel").first.scroll_into_view_if_needed()
    shot(page, "07-mobile-answer-dark")
    w.assert_clean()
    page.context.close()


def test_misspelled_question_says_what_was_searched(browser: object, base_url: str) -> None:
    w = open_page(browser, base_url, DESKTOP)
    page = w.page
    ask(page, "how many vacaton days do I get?")
    answer = page.locator(".answer").last
    expect(answer).to_have_attribute("data-state", "answered")
    expect(answer.locator(".answer-hint")).to_contain_text("Searched for: how many vacation days do I get?")
    w.assert_clean()
    page.context.close()


def sse(*events: tuple[str, dict]) -> str:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def test_special_states_are_distinct(browser: object, base_url: str) -> None:
    """Not-found + fallback, rate limiting and failures, with the server's responses stubbed."""
    w = open_page(browser, base_url, DESKTOP)
    page = w.page
    not_found = {
        "status": "insufficient_evidence",
        "answer": "I couldn't find this in the company policies. People Operations (HR) can help with it.",
        "citations": [
            {
                "number": 1,
                "title": "Sick Leave Policy",
                "source": "sick_leave_policy.md",
                "section": "Sick Leave Policy > 3. Using sick leave",
                "section_id": "abc",
                "page": None,
                "chunk_id": "c1",
                "snippet": "First line <b>not bold</b>.\nSecond line.",
                "url": "/documents/sick_leave_policy.md#sec-abc",
            }
        ],
        "provider": "llm:test-model",
        "degraded": True,
        "degraded_reason": "llm_timeout",
        "reason": "weak_match",
        "answer_id": "0123456789abcdef",
        "conversation_id": "conv-1",
        "timings_ms": {},
    }
    body = sse(("delta", {"text": "Thinking about "}), ("answer", not_found))
    page.route("**/chat", lambda r: r.fulfill(status=200, content_type="text/event-stream", body=body))
    ask(page, "How many days can I take for a dog's illness?")
    ans = page.locator(".answer").last
    expect(ans).to_have_attribute("data-state", "insufficient_evidence")
    expect(ans.locator(".state-banner")).to_have_text("Not found in the policies")
    expect(ans.locator(".citations-title")).to_have_text("Closest passages")
    expect(ans.locator(".degraded-note")).to_contain_text("Fallback answer: the AI model took too long")
    ans.locator("button.chip").click()
    expect(ans.locator("blockquote.snippet")).to_have_text("First line <b>not bold</b>.\nSecond line.")
    assert ans.locator("blockquote.snippet b").count() == 0
    expect(ans.locator(".cite-meta")).to_contain_text("3. Using sick leave")
    shot(page, "08-not-found-fallback")

    page.unroute("**/chat")
    page.route(
        "**/chat",
        lambda r: r.fulfill(
            status=429,
            headers={"Retry-After": "12"},
            content_type="application/json",
            body=json.dumps({"error": {"code": "rate_limited", "message": "slow down", "field": None}}),
        ),
    )
    ask(page, "And for a cat?")
    limited = page.locator(".answer").last
    expect(limited).to_have_attribute("data-state", "rate_limited")
    expect(limited).to_contain_text("Too many questions — try again in 12 seconds")
    expect(limited.get_by_role("button", name="Try again")).to_be_disabled()

    page.unroute("**/chat")
    page.route("**/chat", lambda r: r.abort("connectionfailed"))
    ask(page, "And for a hamster?")
    failed = page.locator(".answer").last
    expect(failed).to_have_attribute("data-state", "error")
    expect(failed).to_contain_text("Can't reach PolicyWise")
    expect(page.locator("#send")).to_be_enabled()
    shot(page, "09-rate-limited-and-error")
    # Stubbed failures are logged by the browser as failed loads; nothing else may be.
    w.assert_clean(allow=r"Failed to load resource|net::ERR_")
    page.context.close()
