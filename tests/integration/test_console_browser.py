"""The operator console in a real browser (headless Chromium from Debian, driven by
Selenium): a wrong key is refused; with the right one the overview shows the binds and the
other operator's CAMARA API it asked (a second otpgate); a hold appears after a SIM swap
and an OTP, is released from the page, and the ESME gets its receipt. No page shows the
code, the text or a peer's token. Screenshots of each page are saved.

The gateway runs in the test's event loop; the browser is driven from a thread so that the
loop keeps serving it."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.signals.model import parse_signal

from .esme import AsyncEsme
from .harness import (
    HOLD_AFTER_SWAP,
    OPERATOR_KEY,
    PASSWORD,
    account,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
    until,
)
from .test_camara_peers import SWAPPED as PEER_SWAPPED
from .test_camara_peers import peer_section, peers_from, start_peer_operator

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs the Debian packages chromium and chromium-driver (installed by .ci/run)",
)
SWAPPED = "447400123555"
CODE = "482913"
OTP = f"Your PayBank code is {CODE}. Never share it."


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER or ""), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The browser's side of the test, run in a thread (Selenium blocks)."""

    def __init__(self, driver: object, base: str, shots: Path) -> None:
        self.driver = driver
        self.base = base
        self.shots = shots

    def wait(self, condition: object, timeout_s: float = 10) -> object:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout_s, poll_frequency=0.1).until(condition)

    def by_id(self, element_id: str) -> object:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, element_id)

    def log_in(self, key: str) -> None:
        self.driver.get(f"{self.base}/console/")
        self.wait(lambda d: self.by_id("login").is_displayed())
        self.by_id("key").send_keys(key)
        self.by_id("login-button").click()

    def text(self, element_id: str) -> str:
        return self.by_id(element_id).text

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"console-{name}.png"))


async def test_console_login_overview_hold_release_in_a_real_browser(tmp_path, browser):
    policy = tmp_path / "policy.toml"
    policy.write_text(HOLD_AFTER_SWAP)
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(running_simulator())
        peer, peer_key = await start_peer_operator(stack, tmp_path, token_lifetime_s=3600.0)
        config = gateway_config(
            tmp_path / "home", (route("main", sim.port),), accounts=(account("bank"),)
        )
        peers = peers_from(peer_section(tmp_path, peer.tenant_api_port, peer_key))
        config = replace(config, policy_file=policy, camara_peers=peers)
        gw = await stack.enter_async_context(running_gateway(config))
        # Screenshots: $OTPGATE_SCREENSHOTS, or the test's own temporary directory.
        shots = Path(os.environ.get("OTPGATE_SCREENSHOTS") or tmp_path / "screenshots")
        shots.mkdir(parents=True, exist_ok=True)
        page = Page(browser, f"http://127.0.0.1:{gw.api_port}", shots)

        # A wrong key: the login page says so and shows nothing else.
        await asyncio.to_thread(page.log_in, "not-the-key")
        await asyncio.to_thread(page.wait, lambda d: "refused" in page.text("login-error"))
        assert not page.by_id("overview").is_displayed()
        await asyncio.to_thread(page.shot, "login-refused")

        # An OTP to the other operator's swapped number: its API asked, the OTP held.
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        await esme.submit(destination=PEER_SWAPPED[1:], text=OTP.encode())
        assert gw.peers is not None and gw.peers.stats.calls[("opb", "ok")] == 1

        # The right key: the overview, with the ESME's bind and the peer's health.
        await asyncio.to_thread(page.log_in, OPERATOR_KEY)
        await asyncio.to_thread(page.wait, lambda d: "bank" in page.text("esme-binds"), 15)
        assert "main" in page.text("upstream-binds")
        await asyncio.to_thread(page.wait, lambda d: "opb" in page.text("peer-rows"))
        peer_row = page.text("peer-rows")
        assert "closed" in peer_row and "1 ok, 0 failed" in peer_row
        assert "valid" in peer_row and " ms" in peer_row
        assert peer_key not in browser.page_source and PEER_SWAPPED not in peer_row
        await asyncio.to_thread(page.shot, "overview")

        # A SIM swap, then an OTP to that number: held, and on the holds page.
        occurred = datetime.fromtimestamp(gw.clock.now() - 60, UTC).isoformat()
        swap = {"kind": "sim_swap", "msisdn": "+" + SWAPPED, "occurred_at": occurred}
        gw.risk_index.apply(parse_signal(swap, default_region=None))
        answer = await esme.submit(destination=SWAPPED, text=OTP.encode())
        hold_id = str(answer.params["message_id"])
        browser.get(f"{page.base}/console/#holds")
        await asyncio.to_thread(page.wait, lambda d: hold_id in page.text("hold-rows"), 15)
        await asyncio.to_thread(page.shot, "holds")
        shown = browser.page_source
        assert CODE not in shown and "PayBank" not in shown

        # Release from the page, confirming the dialog; the ESME gets its receipt.
        from selenium.webdriver.common.by import By

        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-hold="{hold_id}"]')
        row.find_element(By.CSS_SELECTOR, "button.release").click()
        await asyncio.to_thread(page.wait, lambda d: d.switch_to.alert)
        browser.switch_to.alert.accept()
        await asyncio.to_thread(
            page.wait, lambda d: f"Hold {hold_id}:" in page.text("holds-message")
        )
        assert await until(lambda: gw.holds.find_open(hold_id) is None, 10)
        assert await esme.wait_for(lambda: esme.receipts, 10)
        record = await gw.holds.store.get(hold_id)
        assert record is not None and record.state == "released"
        await asyncio.to_thread(page.shot, "released")

        # The risk page answers without an IMSI or a code.
        browser.get(f"{page.base}/console/#risk")
        await asyncio.to_thread(page.wait, lambda d: page.by_id("risk").is_displayed())
        page.by_id("msisdn").send_keys("+" + SWAPPED)
        page.by_id("risk-button").click()
        await asyncio.to_thread(page.wait, lambda d: "sim_swap" in page.text("risk-answer"))
        assert "imsi" not in page.text("risk-answer").lower()
        await asyncio.to_thread(page.shot, "risk")

        # The policy page: the rules in force, and a decision explained for the number.
        browser.get(f"{page.base}/console/#policy")
        await asyncio.to_thread(page.wait, lambda d: "hold-after-swap" in page.text("policy-rules"))
        page.by_id("explain-msisdn").send_keys("+" + SWAPPED)
        page.by_id("explain-text").send_keys(OTP)
        page.by_id("explain-button").click()
        await asyncio.to_thread(
            page.wait, lambda d: '"decision": "hold"' in page.text("explain-answer")
        )
        assert CODE not in page.text("explain-answer")
        await asyncio.to_thread(page.shot, "policy")

        # The charts: one line a series, drawn from /v1/history.
        browser.get(f"{page.base}/console/#charts")
        await asyncio.to_thread(
            page.wait,
            lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-submits polyline[data-series]"),
        )
        series = browser.find_element(By.CSS_SELECTOR, "#chart-submits polyline")
        assert series.get_attribute("data-series") == "submits/s"
        await asyncio.to_thread(page.shot, "charts")

        # At a phone's width every page still fits: nothing scrolls sideways.
        browser.set_window_size(390, 844)
        for name in ("overview", "holds", "risk", "policy", "tenants", "charts"):
            browser.get(f"{page.base}/console/#{name}")
            await asyncio.to_thread(page.wait, lambda d, n=name: page.by_id(n).is_displayed())
            width = browser.execute_script("return document.documentElement.scrollWidth")
            inner = browser.execute_script("return window.innerWidth")
            assert width <= inner, (name, width, inner)
            await asyncio.to_thread(page.shot, f"{name}-phone")
        esme.close()
