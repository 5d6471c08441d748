"""Realistic Chinese names for the demo city's roads, communities, compounds, organizations,
shops and places, drawn from syllable lists with a seeded generator and never repeated."""

from __future__ import annotations

import numpy as np

# Two-character stems are drawn as FIRST + SECOND; a few real Haidian-flavoured stems come first so
# the main roads read like 学院路, 知春路, 成府路, 双清路.
FAMOUS_STEMS = [
    "学院",
    "知春",
    "成府",
    "双清",
    "志新",
    "花园",
    "北土城",
    "塔院",
    "明光",
    "文慧",
    "蓟门",
    "牡丹园",
    "皂君庙",
    "大钟寺",
    "清华东",
    "中关村",
    "科学院",
    "展春",
    "惠新",
    "五道口",
]
FIRST = list(
    "学知成双志花塔明文蓟牡皂清展惠育京安和宁永兴福德嘉华康泰春秋青翠云林月星光"
    "长新东西南北金银玉瑞祥丰盛平乐昌宏德鸿海天"
)
SECOND = list(
    "院春府清华新园光慧门丹庙泉苑林桥坊营庄屯台河湖山岭塘湾坡庆安平和宁德兴乐昌盛源溪松竹梅兰"
)
DIRECTIONS = ["东", "西", "南", "北"]
ROAD_SUFFIX = {
    "main": ["路", "大街", "大道"],
    "secondary": ["路", "街", "东路", "西路", "北路", "南路"],
    "branch": ["路", "街", "一街", "二街", "中路", "支路"],
    "alley": ["胡同", "巷", "头条", "二条", "里"],
}
COMMUNITY_SUFFIX = ["社区"]
COMPOUND_SUFFIX = [
    "家园",
    "花园",
    "小区",
    "嘉园",
    "公寓",
    "苑",
    "里",
    "新村",
    "雅苑",
    "西里",
    "北里",
]
SCHOOL_KIND = ["小学", "中学", "实验学校", "幼儿园", "职业学院"]
HOSPITAL_KIND = ["医院", "社区卫生服务中心", "中医医院", "口腔医院"]
COMPANY_KIND = [
    "科技有限公司",
    "信息技术有限公司",
    "建设集团",
    "设计研究院",
    "物业管理有限公司",
    "网络科技有限公司",
    "研究所",
]
SHOP_KIND = [
    "超市",
    "便利店",
    "餐厅",
    "面馆",
    "药店",
    "水果店",
    "理发店",
    "书店",
    "咖啡馆",
    "五金店",
    "眼镜店",
    "烟酒店",
    "洗衣店",
    "花店",
    "包子铺",
    "快餐店",
]
SHOP_BRAND_SECOND = list("记味家香福兴顺隆发祥")
LANDMARK_KIND = ["大厦", "中心", "广场", "国际大厦", "科技大厦", "大楼"]
NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]


FAMOUS_PLACES = [
    ("五道口", ["五道口地区", "五道口路口"], ["五道口村"]),
    ("双榆树", ["双榆树地区"], ["双榆树村"]),
    ("魏公村", ["魏公村路口"], ["畏吾村"]),
    ("知春里", ["知春里小区一带"], []),
    ("学院桥", ["学院路桥"], ["学院路口"]),
    ("牡丹园", ["牡丹园地区"], ["北太平庄牡丹园"]),
]


class NameBook:
    """Hands out unique names of every kind from one seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self._famous = list(FAMOUS_STEMS)
        self._famous_places = list(FAMOUS_PLACES)

    def pick(self, seq):
        """One element of `seq`, drawn from the generator (cheaper than rng.choice on a list)."""
        return seq[int(self.rng.integers(len(seq)))]

    def stem(self, famous_first: bool = False) -> str:
        """A two-character (sometimes a real, longer) stem such as 学院 or 嘉兴."""
        if famous_first and self._famous:
            return self._famous.pop(0)
        first = self.pick(FIRST)
        second = self.pick(SECOND)
        return first + (second if second != first else self.pick(SECOND[:10]))

    def unique(self, make) -> str:
        """The first name `make()` gives that is not taken yet (`make` draws from self.rng)."""
        for attempt in range(200):
            name = make()
            if attempt > 50:
                name = f"{name[:-1]}{NUMERALS[attempt % 10]}{name[-1]}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted")

    def road(self, road_class: str) -> str:
        """A road name of the class, e.g. 学院路 (main), 嘉兴东路 (secondary), 玉泉胡同 (alley)."""
        suffixes = ROAD_SUFFIX[road_class]
        famous = road_class == "main"
        return self.unique(lambda: self.stem(famous) + self.pick(suffixes))

    def community(self) -> str:
        return self.unique(lambda: self.stem() + self.pick(COMMUNITY_SUFFIX))

    def compound(self) -> str:
        return self.unique(lambda: self.stem() + self.pick(COMPOUND_SUFFIX))

    def school(self, road_name: str) -> str:
        """A school named the usual ways: after its road (学院路小学), by number (北京市第
        一二三中学), or after a place (嘉兴实验学校)."""

        def make() -> str:
            style = int(self.rng.integers(3))
            if style == 0:
                return road_name + self.pick(["小学", "中学", "幼儿园"])
            if style == 1:
                return f"北京市第{int(self.rng.integers(20, 180))}中学"
            return self.stem() + self.pick(SCHOOL_KIND)

        return self.unique(make)

    def hospital(self, road_name: str) -> str:
        """A hospital or clinic, e.g. 嘉兴医院 or 学院路社区卫生服务中心."""

        def make() -> str:
            if self.rng.random() < 0.4:
                return road_name + "社区卫生服务中心"
            return self.stem() + self.pick(HOSPITAL_KIND)

        return self.unique(make)

    def company(self) -> str:
        return self.unique(lambda: "北京" + self.stem() + self.pick(COMPANY_KIND))

    def shop(self, road_name: str) -> str:
        """A shop name; a second shop of the same brand is a branch named after its road, as
        chains do: 福记面馆 then 福记面馆(学院路店)."""
        base = self.pick(FIRST) + self.pick(SHOP_BRAND_SECOND) + self.pick(SHOP_KIND)
        for name in (base, f"{base}({road_name}店)"):
            if name not in self.used:
                self.used.add(name)
                return name
        return self.unique(lambda: f"{base}({road_name}{self.pick(NUMERALS)}店)")

    def landmark(self) -> str:
        return self.unique(lambda: self.stem() + self.pick(LANDMARK_KIND))

    def park(self) -> str:
        return self.unique(lambda: self.stem() + self.pick(["公园", "绿地", "游园", "广场"]))

    def place(self) -> tuple[str, list[str], list[str]]:
        """A locality (name, aliases, historical names): the real 五道口 (alias 五道口地区,
        once 五道口村) and its neighbours first, then made-up ones like 三里屯 or 嘉兴桥."""
        while self._famous_places:
            name, aliases, historical = self._famous_places.pop(0)
            if name not in self.used:
                self.used.add(name)
                return name, list(aliases), list(historical)

        def make() -> str:
            if self.rng.random() < 0.4:
                return self.pick(NUMERALS[:9]) + self.pick(["道口", "棵松", "里屯", "孔桥", "间房"])
            return self.stem() + self.pick(["口", "桥", "村", "屯", "营", "庄"])

        name = self.unique(make)
        old = name[:-1] + ("庄" if name.endswith("村") else "村")
        return name, [f"{name}地区", f"{name}路口"], [old]
