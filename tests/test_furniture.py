"""Page furniture of real news (excerpts of ../shared/data/news_zh_20k.jsonl.xz) and the content beside it.

The original headline (原标题) becomes the title and leaves the quotable text; inline
ads, photo credits, picture markers and page footers go; articles about ads, photography
or dimensions (3×4米) keep every sentence; long unpunctuated runs are quoted in pieces.
Every figure is checked against the stored text: offsets must index it exactly.
"""

from __future__ import annotations

import pytest

from rag.ingest.chunking import QUOTE_MAX_CHARS, ChunkerConfig, chunk_document, split_quotable
from rag.ingest.documents import BODY, CAPTION, HEADING, Document, parse_bytes
from rag.text.cleaning import split_furniture, split_runs
from rag.text.headline import headline_end, split_original_title, take_trailing_original_title

HEADER = "2023-08-17 20:38，正文："


def news(body: str, name: str = "news.txt") -> Document:
    return parse_bytes((HEADER + body).encode("utf-8"), name)


def texts(doc: Document, kind: str | None = None) -> list[str]:
    return [doc.paragraph_text(p.index) for p in doc.paragraphs if kind is None or p.kind == kind]


def assert_offsets_hold(doc: Document) -> None:
    for p in doc.paragraphs:
        assert doc.text[p.start : p.end] == doc.paragraph_text(p.index) == doc.paragraph_text(p.index).strip()
    for chunk in chunk_document(doc, ChunkerConfig(150, 400, 1)):
        assert doc.text[chunk.start : chunk.end] == chunk.text
        for start, end, sentence in chunk.quotable_sentences():
            assert chunk.text[start:end] == sentence == sentence.strip()


def quotable(doc: Document) -> list[str]:
    return [sentence for chunk in chunk_document(doc, ChunkerConfig(150, 400, 1)) for _, _, sentence in chunk.quotable_sentences()]


# --------------------------------------------------------------------------- 原标题: the original headline


@pytest.mark.parametrize(
    "body,title,first_sentence",
    [
        (  # glued to a dateline: the outlet (扬子晚报网) opens the body
            "原标题：雨天路滑紧急刹车，摩托车“飞”进小轿车车肚下扬子晚报网8月17日讯（通讯员 杨昌平 记者 梅建明）近日，"
            "南京江宁开发区交警中队接到报警，称在辖区清水亭东路诚信大道路口处，发生了一起摩托车跟小轿车追尾的交通事故。",
            "雨天路滑紧急刹车，摩托车“飞”进小轿车车肚下",
            "扬子晚报网8月17日讯（通讯员 杨昌平 记者 梅建明）近日，",
        ),
        (  # glued to the lead's first words
            "原标题：安徽今年已审批法律援助案件5．7万余件今年以来，安徽省司法行政系统深入贯彻落实法律援助法，扎实组织实施法律援助各项工作，"
            "切实维护困难群众合法权益。",
            "安徽今年已审批法律援助案件5．7万余件",
            "今年以来，安徽省司法行政系统",
        ),
        (  # a stock report: 截至 opens the lead
            "原标题：股票行情快报：龙腾光电（688055）8月18日主力资金净卖出12.34万元截至2023年8月18日收盘，龙腾光电(688055)报收于4.01元，上涨0.5%。",
            "股票行情快报：龙腾光电（688055）8月18日主力资金净卖出12.34万元",
            "截至2023年8月18日收盘",
        ),
        (  # a byline after the headline
            "原标题：非法储存销售汽油，小心构成危险作业罪极目新闻记者 黄忠通讯员 谭秋雨实习生 杨林娜 众所周知，汽油、柴油等危险物品不可随意出售。",
            "非法储存销售汽油，小心构成危险作业罪",
            "极目新闻记者 黄忠",
        ),
        (  # 据…报道
            "原标题：每年军援乌克兰50亿欧元，连续五年！德国财长赞成援助“金牛座”据财联社等媒体报道，正在基辅访问的德国财政部长克里斯蒂安·林德纳表示支持。",
            "每年军援乌克兰50亿欧元，连续五年！德国财长赞成援助“金牛座”",
            "据财联社等媒体报道",
        ),
        (  # the headline said again
            "原标题：温州鹿城：文化礼堂掀起全民迎亚运热潮温州鹿城：文化礼堂掀起全民迎亚运热潮 近日，由中共温州市鹿城区委宣传部主办的太极公益课开展。",
            "温州鹿城：文化礼堂掀起全民迎亚运热潮",
            "近日，由中共温州市鹿城区委宣传部主办",  # the headline said twice is said once
        ),
        (  # on a line of its own, set off by a run of blanks
            "                原标题：中国官方：加大对“黄牛”、第三方平台违规囤票的打击力度                            "
            "中新社北京7月25日电 (记者 刘文文)为提升暑期旅游景区开放管理水平，中国文化和旅游部25日发布通知。",
            "中国官方：加大对“黄牛”、第三方平台违规囤票的打击力度",
            "中新社北京7月25日电",
        ),
        (  # other separators and traditional Chinese
            "【原标题】台风“卡努”逼近 冲绳航班大面积取消\n当地时间8月1日，受台风影响，冲绳那霸市的航班取消。",
            "台风“卡努”逼近 冲绳航班大面积取消",
            "当地时间8月1日",
        ),
        ("原標題：颱風過境 多地停班停課\n颱風昨日登陸，多地宣布停班停課。", "颱風過境 多地停班停課", "颱風昨日登陸"),
        (
            "原题：一老人代步车刮蹭法拉利，车主只索赔了190元8月15日，上海街头一老人驾驶代步车在马路穿行时与一辆法拉利发生刮蹭。",
            "一老人代步车刮蹭法拉利，车主只索赔了190元",
            "8月15日，",
        ),
    ],
)
def test_the_original_headline_is_the_title_and_leaves_the_quotable_text(body: str, title: str, first_sentence: str) -> None:
    doc = news(body)
    assert doc.title == title
    assert "原标题" not in doc.text and "原題" not in doc.text and "原题" not in doc.text and "原標題" not in doc.text
    assert doc.paragraphs[0].kind == HEADING and doc.paragraph_text(0) == title  # searchable context, never quoted
    assert texts(doc, BODY)[0].startswith(first_sentence)  # the rest of the paragraph stays
    assert not any(title in sentence for sentence in quotable(doc))
    assert_offsets_hold(doc)


def test_without_a_cue_nothing_is_cut_and_the_title_is_no_label() -> None:
    body = "原标题：工资增速有望超通胀 英国生活成本危机两年来首次缓解手头拮据的英国家庭有望松一口气。下周公布的数据预计将显示，工资增速快于物价增速。"
    doc = news(body)
    assert not doc.title.startswith("原标题")
    assert doc.text == body.removeprefix("原标题：")  # every character of the body kept
    assert_offsets_hold(doc)


def test_a_headline_placed_after_the_article_becomes_the_title_and_leaves() -> None:
    doc = news("窝棚拆除并未影响果园荔枝的采摘和销售。（原标题：《刚刚！这个区发布通报：情况不属实！》）")
    assert doc.title == "刚刚！这个区发布通报：情况不属实！"
    assert doc.text == "窝棚拆除并未影响果园荔枝的采摘和销售。"
    doc = news("文章编译如下。澳英美联盟面临日益猛烈的抨击。【原标题】这下，澳大利亚国内也看不下去了来源 | 参考消息编辑 | 岳雨田")
    assert doc.title == "这下，澳大利亚国内也看不下去了"
    assert "原标题" not in doc.text and "澳英美联盟面临日益猛烈的抨击。" in doc.text


def test_a_sentence_that_names_a_sources_headline_stays() -> None:
    body = "新加坡《海峡时报》8月15日文章，原题：随着竞争加剧，中国直播吸引年轻有为者。28岁的张瑾瑜从今年1月开启当直播带货主播的职业生涯。"
    doc = news("中国直播吸引更多年轻有为者\n" + body)
    assert body in doc.text


def test_headline_cues_read_the_outlet_before_a_dateline() -> None:
    text = "轮台县轮台镇“美颜”行动不停歇 环境整治再提升中新网新疆新闻8月16日电 （古丽努尔·巴瑞）走在轮台县轮台镇辖区大街小巷，"
    end = headline_end(text)
    assert end is not None and text[:end] == "轮台县轮台镇“美颜”行动不停歇 环境整治再提升"
    assert split_original_title("本报讯 近日，市里开会。") is None  # no label, no headline
    assert take_trailing_original_title("没有原来的标题。") == ("", ["没有原来的标题。"])


# --------------------------------------------------------------------------- inline furniture


def test_an_inline_ad_and_its_close_button_go_and_the_paragraph_breaks_there() -> None:
    doc = news(
        "保定市组织14个县市区对口支援涿州受灾村镇。广告 他只是个小司机，伺候的却是一个富太太，小人物一步步平步青云扶摇直上！ ×"
        "北京受灾地区生产生活秩序进一步恢复。广告 可御可甜 有颜有料 惩罚整蛊任你选 >>进入直播间与主播亲密互动 ×在房山区，19座污水处理厂恢复运行。"
        "广告 美女秀场 真人直播 >>进入直播间与主播亲密互动 ×8月4日12时，落坡岭村的180多名居民全部转运完毕。"
    )
    assert texts(doc) == [
        "保定市组织14个县市区对口支援涿州受灾村镇。",
        "北京受灾地区生产生活秩序进一步恢复。",
        "在房山区，19座污水处理厂恢复运行。",
        "8月4日12时，落坡岭村的180多名居民全部转运完毕。",
    ]
    assert_offsets_hold(doc)


@pytest.mark.parametrize(
    "content",
    [
        "近日，额续网络科技（上海）有限公司因发布的广告违背社会良好风尚，被罚款2.1万元，并没收广告费用。",
        "户外广告 牌面尺寸为3 × 4米，需经城管部门审批后方可设置。",
        "新魔方的尺寸为4620×1886×1680mm，轴距2735mm。",
        "中国队在男子4×100米自由泳接力中以3分11秒38的成绩排名第四。",
        "此次直播一开，很快就吸引30多万粉丝进入直播间。",
        "第四届摄影展在市美术馆开幕，中国新闻摄影学会会长徐祖根到场致辞。",
        "嫌疑人怕户主发现，将监控摄像头套上黑色塑料袋后摘下。",
        "奥斯汀市5日最高气温高达41.1摄氏度，追平了单日最高气温纪录。",
        "该手机后置 5000 万像素主摄，支持光学防抖。",
        "网传视频截图显示，一名男子在车厢内与乘客发生争执。",
    ],
)
def test_content_that_mentions_ads_photos_or_times_signs_is_kept_verbatim(content: str) -> None:
    doc = news(content)
    assert doc.text == content
    assert texts(doc, BODY) == [content]


@pytest.mark.parametrize(
    "body,paragraphs,captions",
    [
        (  # 资料图 after a caption without punctuation: the caption is kept but never quoted
            "马斯克6日发文，就此前“约架”一事更新消息。扎克伯格与马斯克资料图马斯克6日发文预告，比赛将在平台上进行直播。",
            ["马斯克6日发文，就此前“约架”一事更新消息。", "扎克伯格与马斯克", "马斯克6日发文预告，比赛将在平台上进行直播。"],
            ["扎克伯格与马斯克"],
        ),
        (  # 资料图 after a whole sentence: the sentence is the article's and stays quotable
            "碧江区市场监管局依法将案件移送公安机关处理。资料图案例三：兴义市市场监管局查处徐某某侵犯注册商标专用权案。",
            ["碧江区市场监管局依法将案件移送公安机关处理。", "案例三：兴义市市场监管局查处徐某某侵犯注册商标专用权案。"],
            [],
        ),
        (  # a photographer's credit
            "8月4日，王琦在比赛后庆祝。新华社记者 贾浩成 摄来自南京师范大学的王琦赛后表示：“我对自己的表现还是比较满意的。”",
            ["8月4日，王琦在比赛后庆祝。", "来自南京师范大学的王琦赛后表示：“我对自己的表现还是比较满意的。”"],
            [],
        ),
        (
            "参观军垦前辈使用过的物品 （李娟 摄）70年来兵团人的奋斗创业史深深地震撼着青年。",
            ["参观军垦前辈使用过的物品", "70年来兵团人的奋斗创业史深深地震撼着青年。"],
            ["参观军垦前辈使用过的物品"],
        ),
        (  # a screenshot's marker and a picture's source
            "游客踩踏丹霞地貌拍照视频截图有网友8月15日吐槽，景区内有游客踩踏丹霞地貌。驶入港口的航母。图源：视觉中国尽管美国是越南最大的出口市场，双方贸易仍有限。",
            ["游客踩踏丹霞地貌拍照", "有网友8月15日吐槽，景区内有游客踩踏丹霞地貌。驶入港口的航母。", "尽管美国是越南最大的出口市场，双方贸易仍有限。"],
            ["游客踩踏丹霞地貌拍照"],
        ),
        (  # a credit inside a sentence: the sentence goes on unbroken
            "这是8月8日在深圳拍摄的环保书吧（8月8日摄）。园区将对市民开放。",
            ["这是8月8日在深圳拍摄的环保书吧。园区将对市民开放。"],
            [],
        ),
    ],
)
def test_picture_credits_and_markers_go_and_their_captions_are_never_quoted(body: str, paragraphs: list[str], captions: list[str]) -> None:
    doc = news(body)
    assert texts(doc) == paragraphs
    assert texts(doc, CAPTION) == captions
    assert not any(caption in sentence for caption in captions for sentence in quotable(doc))
    assert_offsets_hold(doc)


def test_footers_notices_and_the_editors_line_go() -> None:
    doc = news(
        "英特尔终止收购高塔半导体的交易。\n"
        "因涉及监管审批，收购始终在推迟。来源：财联社返回搜狐，查看更多责任编辑：\n"
        "Xbox 内容和服务营收同比增长 5%。广告声明：文内含有的对外跳转链接（包括不限于超链接、二维码、口令等形式），用于传递更多信息，"
        "节省甄选时间，结果仅供参考，IT之家所有文章均包含本声明。\n"
        "相关部门提醒市民注意交通安全。(责任编辑：乔娇TT0002)\n"
        "对于这款游戏感兴趣的玩家，可以做个参考。本文属于原创文章，如若转载，请注明来源：《海参2》什么级别的显卡能够畅玩？"
        "https://game.zol.com.cn/826/8261969.html"
    )
    assert texts(doc) == [
        "英特尔终止收购高塔半导体的交易。",
        "因涉及监管审批，收购始终在推迟。",
        "Xbox 内容和服务营收同比增长 5%。",
        "相关部门提醒市民注意交通安全。",
        "对于这款游戏感兴趣的玩家，可以做个参考。",
    ]


def test_split_furniture_cuts_verbatim() -> None:
    pieces = split_furniture("路边上的空地被草坪和花卉代替。广告 萌喵宠物店 ×从驿站延伸出的栈道直通湿地。")
    assert [p.text for p in pieces] == ["路边上的空地被草坪和花卉代替。", "从驿站延伸出的栈道直通湿地。"]
    assert split_furniture("扫描下方二维码，关注我们的公众号。") == []


def test_a_headline_set_off_by_blanks_breaks_the_line() -> None:
    assert split_runs("原标题：省防总启动省级Ⅳ级防汛应急响应      本报讯 (记者 甘甜)7月27日，陕北南部出现分散性暴雨。") == [
        "原标题：省防总启动省级Ⅳ级防汛应急响应",
        "本报讯 (记者 甘甜)7月27日，陕北南部出现分散性暴雨。",
    ]


# --------------------------------------------------------------------------- long unpunctuated runs


TRANSCRIPT = (
    "近日众多网友纷纷@警方提示一条短视频存在“异常”视频中两名女子先后吸食一支“电子烟”二人吸食前后的异样举动让不少网友怀疑二人可能在吸毒"
    "警方在看到消息后连夜展开调查随即找到当事人现场查获视频中的“电子烟”经检测确认其中含有依托咪酯成分 目前两名女子已被依法行政拘留 "
    "警方提醒广大市民 依托咪酯是一种麻醉药品 滥用会导致严重后果 请大家远离毒品 珍爱生命 如发现相关违法犯罪线索 请及时向公安机关举报，"
    "举报属实的将给予奖励，警方将对举报人信息严格保密，欢迎广大群众积极举报 据了解 依托咪酯滥用案件今年以来在多地出现 执法部门正持续开展专项整治行动"
)


def test_a_long_unpunctuated_run_is_quoted_in_pieces_cut_at_clause_marks_or_blanks() -> None:
    assert len(TRANSCRIPT) > QUOTE_MAX_CHARS
    doc = news(TRANSCRIPT)
    sentences = quotable(doc)
    assert len(sentences) >= 2 and all(len(s) <= QUOTE_MAX_CHARS for s in sentences)
    assert "".join(sentences).replace(" ", "") == TRANSCRIPT.replace(" ", "")  # verbatim, nothing lost
    for chunk in chunk_document(doc, ChunkerConfig(150, 400, 1)):
        for _, end in chunk.quotable:  # each piece ends at a blank, after a clause mark, or with the text
            assert end == len(doc.text) or doc.text[end] == " " or doc.text[end - 1] in "，,；;、：:"
    assert_offsets_hold(doc)


def test_quotable_pieces_are_near_even_and_offsets_exact() -> None:
    text = "甲" * 70 + "，" + "乙" * 70 + "，" + "丙" * 70 + "。"
    spans = split_quotable(text, 400, 120)
    assert [text[s:e] for s, e in spans] == ["甲" * 70 + "，", "乙" * 70 + "，", "丙" * 70 + "。"]
    assert split_quotable(text, 400) == [(0, len(text))], "a long sentence under the run-on bound stays whole"
    run = "无标点长句" * 60  # no mark and no blank: it stays whole rather than be cut inside a word
    assert split_quotable(run, 400) == [(0, len(run))]
    short = "短句，不切。"
    assert split_quotable(short, 400) == [(0, len(short))]


def test_a_new_reading_of_the_files_re_reads_an_index_built_by_the_old_one(fake_settings, tmp_path, monkeypatch) -> None:
    """When the cleaning rules change, the next ingest re-reads every file rather than serving the old reading."""
    from rag import Rag
    from rag.ingest import documents

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("原标题：星河农场扩建茶园星河农场今年新种了3000株茶树。\n农场主表示还会继续扩建。\n", encoding="utf-8")
    rag = Rag(fake_settings(index_dir=tmp_path / "index"))
    assert rag.ingest([folder]).added == ("a.txt",)
    assert rag.ingest([folder]).unchanged == ("a.txt",), "the same reading changes nothing"
    monkeypatch.setattr(documents, "READER", documents.READER + "-next")
    assert rag.ingest([folder]).updated == ("a.txt",), "a new reading re-reads the file"
