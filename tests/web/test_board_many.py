"""The board with 1,000 open stories: one page of cards at a time, the next on scrolling, in
Debian's Chromium against the read API on a stored set of synthetic stories (no pipeline needed)."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.bench_api import Corpus, _load
from tests.harness.read_api import serve_read_api
from tests.web.test_board import _browser, _wait


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_a_thousand_stories_are_paged_not_rendered_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'many.db'}"
    await _load(url, Corpus(5000, 1000))
    async with serve_read_api(url) as board:
        await _browse(board)


async def _browse(board: str) -> None:
    driver = _browser()
    try:

        def cards() -> int:
            return len(driver.find_elements("css selector", ".card"))

        await asyncio.to_thread(driver.get, board)
        await asyncio.to_thread(_wait, lambda: cards() == 50, 30, "the first page of 50 cards", driver)
        status = driver.find_element("id", "status").text
        assert "50 stories (more below)" in status
        for expected in (100, 150):  # scrolling to the end fetches the next page by cursor
            driver.execute_script("document.getElementById('more').scrollIntoView()")
            await asyncio.to_thread(_wait, lambda e=expected: cards() == e, 30, f"{expected} cards", driver)
        ids = driver.execute_script("return [...document.querySelectorAll('.card')].map(c => c.dataset.id)")
        assert len(set(ids)) == 150  # no page repeated
        # Filters go to the API: only the stories of one country, still paged.
        driver.find_element("name", "country").send_keys("GH")
        driver.find_element("css selector", "#filters button").click()
        await asyncio.to_thread(
            _wait,
            lambda: (
                driver.find_elements("css selector", ".card")
                and all(
                    "GH" in c.find_element("css selector", ".places").text
                    for c in driver.find_elements("css selector", ".card")
                )
            ),
            30,
            "the Ghana stories",
            driver,
        )
        assert cards() <= 50
        # A story opens from its card, with the chart and each outlet's evidence.
        driver.find_element("css selector", ".card").click()
        await asyncio.to_thread(
            _wait, lambda: driver.find_elements("css selector", "#story .evidence mark"), 30, "the story panel", driver
        )
    finally:
        driver.quit()
