"""Browser-test fixtures: the app served from a background thread, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.web.live import app_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real app (CSRF on, migrated SQLite) on 127.0.0.1 and a free port, served from a thread."""
    with app_in_thread(tmp_path_factory.mktemp("live-instance"), {"SECRET_KEY": "browser-tests"}) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser build)."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page; console errors and CSP violations are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  locale="zh-CN")
    page = context.new_page()
    page.console_errors = []

    def on_console(msg):
        # A form sent back with errors is answered 400 on purpose; Chromium logs that status as an error.
        if msg.type == "error" and "status of 400" not in msg.text:
            page.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where browser tests save screenshots: $GIANTSTEP_SCREENSHOTS, or a temporary folder."""
    folder = Path(os.environ.get("GIANTSTEP_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
