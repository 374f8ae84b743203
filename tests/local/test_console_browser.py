"""The console in a real headless browser (Debian's chromium + chromedriver, driven by selenium):
open it, send a POST from its form, follow the link to the request's trace and see the downstream
handlers; find a dead letter, upload the fix, click Redrive and see the event processed.

Needs ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them the test is
skipped with that reason on a developer's machine, and fails under CI (``CI=true``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portside.local.console import Console

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000"]


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (bash scripts/setup dev)"
    if not CHROMIUM or not DRIVER:
        return "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the console's browser test cannot run under CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="portside-chromium-")
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: Any, css: str, timeout: float = 15, text: str | None = None) -> Any:
    """The first element matching ``css`` (containing ``text``), once it is there."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d: Any) -> Any:
        for el in d.find_elements(By.CSS_SELECTOR, css):
            if text is None or text in el.text:
                return el
        return False

    try:
        return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(found)
    except Exception as e:  # the page as it was, to see why
        body = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"no {css!r}{f' with {text!r}' if text else ''} after {timeout}s; page:\n{body[:2000]}") from e


def click(driver: Any, css: str, text: str | None = None) -> None:
    """Click the element, again if the view re-rendered under it (the trace view refreshes every second)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(5):
        try:
            wait(driver, css, text=text).click()
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{css!r} kept changing under the click")


def send_order(driver: Any, body: str) -> None:
    from selenium.webdriver.support.ui import Select

    driver.get(driver.current_url.split("#")[0] + "#send")
    Select(wait(driver, "#http-route")).select_by_visible_text("POST /orders → place")
    field = wait(driver, "#http-body")
    assert field.get_attribute("value") == '{"id": "o-1", "item": "kibble"}'  # the example from place's docstring
    field.clear()
    field.send_keys(body)
    wait(driver, "#http-send").click()
    wait(driver, "#http-result .badge", text="202")


def test_a_post_sent_from_the_console_shows_its_trace_with_the_downstream_handlers(browser: Any, console: Console) -> None:
    browser.get(console.url)
    assert "console-test" in browser.title
    send_order(browser, '{"id": "b-1", "item": "leash"}')
    click(browser, "#http-result a.trace-link", text="see its trace")
    for fn in ("place", "work", "notify", "audit"):  # the tree fills in as the downstream work runs
        wait(browser, f'#trace-tree .node.invocation.ok[data-function="{fn}"]')
    tree = wait(browser, "#trace-tree").text.lower()  # (the kind of each node is shown in capitals)
    assert "send order-jobs" in tree and "publish order-events" in tree and "→ 2 consumers" in tree
    # and on the live events page, filtered by function
    browser.get(console.url + "#events?function=notify")
    wait(browser, 'tr.invocation[data-function="notify"]', text="b-1")
    assert not browser.find_elements("css selector", 'tr.invocation[data-function="work"]')


def test_a_dead_letter_is_redriven_from_the_console_and_processed(browser: Any, console: Console, tmp_path: Path) -> None:
    browser.get(console.url)
    send_order(browser, '{"id": "bad-1", "poison": true}')
    browser.get(console.url + "#dead-letters")
    row = wait(browser, 'table.dead-letters tr[data-function="work"]', text="PermanentError")
    assert "order bad-1 is poison" in row.text

    fix = tmp_path / "bad-1"
    fix.write_text("fixed")
    browser.get(console.url + "#buckets?bucket=fixes")
    wait(browser, "#upload-file").send_keys(str(fix))
    wait(browser, "#upload-form button").click()
    wait(browser, "#bucket-status", text="uploaded bad-1")

    browser.get(console.url + "#dead-letters")
    click(browser, 'table.dead-letters tr[data-function="work"] button.redrive')
    wait(browser, "#dl-status", text="redriven")
    wait(browser, "#dl-empty")
    browser.get(console.url + "#events?function=work")
    wait(browser, 'tr.invocation.ok[data-function="work"]', text="bad-1")
    click(browser, 'tr.invocation.ok[data-function="work"] a.trace-link')
    attempts = wait(browser, '#trace-tree .node.invocation.ok[data-function="work"] .attempts').text
    assert "#1 dead-letter" in attempts and "#1 ok" in attempts  # one event, failed then redriven
    wait(browser, '#trace-tree .node.invocation.ok[data-function="notify"]')
    assert console.cloud.table("notices").get({"id": "bad-1"}) == {"id": "bad-1", "sent": True}


def test_the_graph_links_a_node_to_its_events(browser: Any, console: Console) -> None:
    console.cloud.send("order-jobs", {"id": "g-1"})
    console.cloud.wait_until_idle()
    browser.get(console.url + "#graph")
    click(browser, '#graph a.node.function[data-node="audit"]')
    wait(browser, 'tr.invocation[data-function="audit"]', text="g-1")
    assert browser.current_url.endswith("#events?function=audit")
