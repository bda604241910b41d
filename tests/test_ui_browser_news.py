"""News in the real app and a real Chromium: a card shows its publication date, and 另有 N 篇相同报道 expands.

The app starts on a folder of scraped news articles (three outlets' copies of
one report and another story), builds its index with the real model, and is
asked about the report.
"""

from __future__ import annotations

import pytest
from test_news import OTHER_STORY, STORY
from test_ui_browser import ACTIVE, Session, browser, running_app  # noqa: F401 - browser is a fixture

ARTICLES = {
    "cpi_xinhua.txt": "2023-08-10 09:31，正文：" + STORY,
    "cpi_chinanews.txt": "08/10  10:02，正文：中新网北京8月10日电 " + STORY + "（完）",
    "cpi_daily.txt": "[2023/08/10  11:15]，正文：本报讯 " + STORY.replace("解读说", "表示") + "编辑：王明",
    "flood.txt": "2023-07-31 18:00，正文：" + OTHER_STORY,
}


@pytest.fixture(scope="module")
def news_app(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("ui-news")
    folder = work / "news"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    with running_app(work, work / "index", {"RAG_SEEDS_DIR": str(folder)}) as app:
        yield app


def test_a_card_shows_its_date_and_the_other_reports_of_its_story(browser, news_app) -> None:  # noqa: F811
    session = Session(browser, news_app.url)
    try:
        page = session.page
        session.ask("7月份全国居民消费价格同比下降了多少？")
        card = page.locator(f"{ACTIVE} .source-card").first
        assert card.locator("time.card-date").get_attribute("datetime").startswith("2023-08-10")
        assert "2023-08-10" in card.locator(".card-file").inner_text()
        summary = card.locator(".same-story summary")
        assert summary.inner_text().strip() == "另有 2 篇相同报道"
        others = card.locator(".same-story li")
        assert not others.first.is_visible()
        summary.click()
        others.first.wait_for(state="visible")
        assert others.count() == 2
        names = {button.get_attribute("data-doc") for button in others.locator("button").all()}
        assert names <= set(ARTICLES) - {"flood.txt"} and card.get_attribute("data-doc") not in names
        others.locator("button").first.click()
        page.wait_for_selector("#doc-viewer .doc-para")
        assert "居民消费价格" in page.locator("#doc-viewer .doc-body").inner_text()
        assert page.locator("#doc-viewer .doc-body").get_attribute("data-doc") in names
    finally:
        session.close()
