"""The real `rag` command and the real model over a feed: a new entry becomes an answer that cites it (slow tier)."""

from __future__ import annotations

import json
from pathlib import Path

from websites import ICBC_CHONGQING, ICBC_GBC, LANTERN, LocalSite, Route, quick_fetching, rss

from helpers import run_cli
from rag.web.article import url_doc_id


def test_a_new_feed_entry_is_answered_citing_its_page(tmp_path: Path) -> None:
    env = {f"RAG_{name.upper()}": "1" if value is True else str(value) for name, value in quick_fetching().items()}
    index = tmp_path / "index"
    with LocalSite() as site:
        feed = site.base + "/rss.xml"
        added = run_cli("feeds", "add", feed, index_dir=index, env=env)
        assert added.returncode == 0, added.stderr
        first = run_cli("feeds", "update", index_dir=index, env=env)
        assert first.returncode == 0 and f"{feed}: 2 added" in first.stdout, first.stderr
        again = run_cli("feeds", "update", index_dir=index, env=env)
        assert again.returncode == 0 and "not modified" in again.stdout, again.stderr
        assert site.asked("/rss.xml")[-1].get("if-none-match"), "the second update asked conditionally"

        site.routes["/rss.xml"] = Route(
            body=rss(site.base, "示例新闻网", [LANTERN, ICBC_CHONGQING, ICBC_GBC]), content_type="application/rss+xml", validators=True
        )
        third = run_cli("feeds", "update", index_dir=index, env=env)
        assert third.returncode == 0 and f"{feed}: 1 added, 2 already indexed" in third.stdout, third.stderr
        listed = json.loads(run_cli("feeds", "list", "--json", index_dir=index, env=env).stdout)["feeds"]
        assert listed[0]["url"] == feed and listed[0]["entries"] == 3 and not listed[0]["error"]

        asked = run_cli("ask", "青石镇灯笼文化节上最大的龙形灯笼有多长？", "--json", index_dir=index, env=env)
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        assert not answer["refused"] and "二十八米" in answer["answer"]
        assert answer["citations"][0]["doc"] == url_doc_id(site.base + "/news/lantern-festival.html")
