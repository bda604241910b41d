"""Names that mean the same thing: 工行 ↔ 工商银行 ↔ ICBC, 沪 ↔ 上海, 美联储 ↔ Fed.

The support check (``rag.answer.support``) asks whether each name a question
uses occurs in the cited document; a document that says 中国工商银行 supports a
question about 工行, one that says 建设银行 does not. The built-in table holds
common Chinese abbreviations of banks, regulators, places and companies; a user
adds their own in a file (``RAG_ALIASES``): one group a line, names separated
by ``=`` or ``,`` (``# comments``), e.g. ``星河农场 = 星河 = Xinghe Farm``.
Matching is on folded text, so traditional and full-width forms need no line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from ..errors import SettingsError
from .folding import fold

#: Built-in groups: each line one thing, first its usual Chinese name. Single characters (沪, 美) are kept
#: as abbreviations a question may use; they are never searched for alone in a document.
BUILT_IN = """
工商银行 = 工行 = 中国工商银行 = ICBC = Industrial and Commercial Bank of China
建设银行 = 建行 = 中国建设银行 = CCB = China Construction Bank
农业银行 = 农行 = 中国农业银行 = ABC = Agricultural Bank of China
中国银行 = 中行 = BOC = Bank of China
交通银行 = 交行 = BOCOM
招商银行 = 招行 = CMB
邮储银行 = 中国邮政储蓄银行 = 邮政储蓄银行 = PSBC
人民银行 = 央行 = 中国人民银行 = 人行 = PBOC
国家开发银行 = 国开行
进出口银行 = 口行 = 中国进出口银行
美联储 = 美国联邦储备委员会 = Fed
欧洲央行 = 欧央行 = ECB
证监会 = 中国证监会 = 中国证券监督管理委员会 = CSRC
金融监管总局 = 国家金融监督管理总局
银保监会 = 中国银保监会 = 中国银行保险监督管理委员会
发改委 = 国家发展改革委 = 国家发改委 = 国家发展和改革委员会 = NDRC
统计局 = 国家统计局 = 国统局
工信部 = 工业和信息化部
商务部 = 中华人民共和国商务部
外交部 = 中华人民共和国外交部
国务院 = 中华人民共和国国务院
世卫组织 = 世界卫生组织 = 世卫 = WHO
世贸组织 = 世界贸易组织 = 世贸 = WTO
联合国 = UN
营收 = 营业收入 = 营业额
净利润 = 净利
央视 = 中央电视台 = 中央广播电视总台 = CCTV
新华社 = 新华通讯社 = Xinhua
国际货币基金组织 = IMF
欧盟 = 欧洲联盟 = EU
北约 = 北大西洋公约组织 = NATO
上海 = 沪 = 申城 = Shanghai
北京 = 京 = Beijing
广东 = 粤 = Guangdong
广州 = 穗 = Guangzhou
深圳 = 鹏城 = Shenzhen
天津 = 津 = Tianjin
重庆 = 渝 = 山城 = Chongqing
成都 = 蓉 = Chengdu
武汉 = Wuhan
杭州 = Hangzhou
南京 = Nanjing
西安 = Xi'an
江苏 = 苏 = Jiangsu
浙江 = 浙 = Zhejiang
福建 = 闽 = Fujian
四川 = 川 = 蜀 = Sichuan
湖北 = 鄂 = Hubei
湖南 = 湘 = Hunan
河南 = 豫 = Henan
河北 = 冀 = Hebei
山东 = 鲁 = Shandong
山西 = 晋 = Shanxi
陕西 = 陕 = 秦 = Shaanxi
安徽 = 皖 = Anhui
江西 = 赣 = Jiangxi
广西 = 桂 = Guangxi
云南 = 滇 = 云 = Yunnan
贵州 = 黔 = 贵 = Guizhou
海南 = 琼 = Hainan
新疆 = Xinjiang
西藏 = Tibet
香港 = 港 = Hong Kong
澳门 = 澳 = Macau
台湾 = 台
粤港澳大湾区 = 大湾区
美国 = 美 = US = USA
英国 = 英 = UK
日本 = 日 = Japan
韩国 = 韩 = Korea
俄罗斯 = 俄 = 俄国 = Russia
马来西亚 = 大马 = 马国 = Malaysia
新加坡 = 狮城 = Singapore
人工智能 = AI
乌克兰 = 乌 = Ukraine
法国 = 法 = France
德国 = 德 = Germany
苹果 = 苹果公司 = Apple
华为 = Huawei
腾讯 = Tencent
阿里巴巴 = 阿里 = Alibaba
百度 = Baidu
小米 = Xiaomi
京东 = JD
特斯拉 = Tesla
微软 = Microsoft
谷歌 = Google
亚马逊 = Amazon
比亚迪 = BYD
英伟达 = NVIDIA
三星 = Samsung
中国移动 = 移动
中国联通 = 联通
中国电信 = 电信
中石油 = 中国石油
中石化 = 中国石化
国家电网 = 国网
"""
#: Families of words that stand for each other's opposite in the same place: a question asking about one
#: member is not answered by a sentence about another (中学生 asked, 大学生 quoted). A user's file adds a
#: family as a line of names separated by ``|``.
CONTRASTS = """
小学生 | 中学生 | 初中生 | 高中生 | 大学生 | 研究生 | 本科生 | 硕士生 | 博士生 | 留学生 | 毕业生 | 学生
个人 | 法人 | 企业 | 机构 | 对公 | 零售
大型 | 中型 | 小型 | 小微 | 中小 | 微型
儿童 | 青少年 | 未成年人 | 成年人 | 老年人 | 老人 | 婴儿 | 新生儿
男性 | 女性
男子 | 女子
男篮 | 女篮
男足 | 女足
城镇 | 农村 | 乡村
城市 | 农村
境内 | 境外
国内 | 国外 | 海外
线上 | 线下
进口 | 出口
存款 | 贷款
收入 | 支出
营收 | 净利润 | 利润 | 毛利
春季 | 夏季 | 秋季 | 冬季
春天 | 夏天 | 秋天 | 冬天
高级 | 中级 | 初级
身高 | 体重 | 体长 | 臂展 | 年龄 | 寿命
树高 | 树龄 | 胸径
长度 | 宽度 | 高度 | 深度 | 重量 | 面积
资产 | 负债
销量 | 产量 | 销售额 | 产值
买入 | 卖出
金牌 | 银牌 | 铜牌
冠军 | 亚军 | 季军
汽油 | 柴油
公办 | 民办
农业 | 制造业 | 建筑业 | 营造业 | 服务业 | 零售业 | 批发业 | 金融业 | 房地产业 | 采矿业 | 渔业 | 林业 | 畜牧业 | 旅游业 | 餐饮业 | 住宿业
汉族 | 满族 | 回族 | 藏族 | 蒙古族 | 维吾尔族 | 壮族 | 苗族 | 彝族 | 土家族 | 朝鲜族 | 哈萨克族 | 傣族 | 白族 | 瑶族 | 侗族 | 黎族 | 畲族
公募 | 私募
上市 | 退市
"""
_SEPARATORS = re.compile(r"\s*[=,，、]\s*")


def parse_groups(text: str, separators: re.Pattern[str] = _SEPARATORS) -> list[tuple[str, ...]]:
    """Groups of names, one a line (``a = b = c``; families ``a | b``), comments after ``#``; names folded."""
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if (separators is _SEPARATORS) == ("|" in line):
            continue  # a family line is no alias group, and an alias line no family
        names = tuple(dict.fromkeys(fold(n) for n in separators.split(line) if n.strip()))
        if len(names) > 1:
            groups.append(names)
    return groups


@lru_cache(maxsize=8)
def alias_table(path: str = "") -> dict[str, frozenset[str]]:
    """Folded name → every name of its group (itself included): the built-in groups, then the user's file's."""
    groups = parse_groups(BUILT_IN)
    if path:
        try:
            groups += parse_groups(Path(path).expanduser().read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"RAG_ALIASES: cannot read {path} ({exc.strerror or exc}) / 无法读取别名文件") from exc
    table: dict[str, set[str]] = {}
    for group in groups:
        merged = set(group).union(*(table.get(name, set()) for name in group))
        for name in merged:
            table[name] = merged
    return {name: frozenset(names) for name, names in table.items()}


_FAMILY = re.compile(r"\s*\|\s*")


@lru_cache(maxsize=8)
def contrast_families(path: str = "") -> tuple[tuple[str, ...], ...]:
    """The built-in families of contrasting words, then the user's file's (lines with ``|``)."""
    families = parse_groups(CONTRASTS, _FAMILY)
    if path:
        families += parse_groups(Path(path).expanduser().read_text(encoding="utf-8"), _FAMILY)
    return tuple(families)


#: Provinces, municipalities, special regions and countries: a question may name one around a place its
#: passage names more narrowly (河南周口, the passage saying 周口), so only another of these contradicts it.
REGIONS = frozenset(
    fold(n)
    for n in (
        "上海 北京 天津 重庆 广东 江苏 浙江 福建 四川 湖北 湖南 河南 河北 山东 山西 陕西 安徽 江西 广西 云南 贵州 海南 新疆 西藏 内蒙古 宁夏 青海 甘肃 "
        "辽宁 吉林 黑龙江 香港 澳门 台湾 中国 美国 英国 日本 韩国 朝鲜 俄罗斯 法国 德国 意大利 西班牙 葡萄牙 荷兰 比利时 瑞士 瑞典 挪威 芬兰 丹麦 波兰 "
        "乌克兰 土耳其 印度 巴基斯坦 泰国 越南 马来西亚 新加坡 印度尼西亚 菲律宾 澳大利亚 新西兰 加拿大 墨西哥 巴西 阿根廷 智利 埃及 南非 沙特阿拉伯 伊朗 以色列"
    ).split()
)


def names_for(name: str, table: dict[str, frozenset[str]]) -> frozenset[str]:
    """The folded name and its aliases."""
    folded = fold(name)
    return table.get(folded, frozenset({folded}))


def known_in(text: str, table: dict[str, frozenset[str]]) -> Iterable[tuple[int, int, str]]:
    """(start, end, name) of every table name of two characters or more in folded ``text``, longest first at a place."""
    taken: set[int] = set()
    for name in sorted((n for n in table if len(n) > 1), key=len, reverse=True):
        start = text.find(name)
        while start >= 0:
            span = range(start, start + len(name))
            inside_asking = _ASKING.match(text, start + len(name) - 1) is not None  # 胡充华为什么: 华为 ends inside 为什么
            if not taken.intersection(span) and not inside_asking and (not name.isascii() or _whole_word(text, start, start + len(name))):
                taken.update(span)
                yield start, start + len(name), name
            start = text.find(name, start + 1)


_ASKING = re.compile(r"为什么|为何")


def _whole_word(text: str, start: int, end: int) -> bool:
    """A Latin name stands alone (UN is not the middle of FUND)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def in_text(name: str, text: str, table: dict[str, frozenset[str]]) -> bool:
    """Whether folded ``text`` names ``name`` or one of its aliases (never by a single character)."""
    for alias in names_for(name, table):
        if len(alias) < 2:
            continue
        at = text.find(alias)
        while at >= 0:
            if not alias.isascii() or _whole_word(text, at, at + len(alias)):
                return True
            at = text.find(alias, at + 1)
    return False
