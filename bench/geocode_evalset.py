"""Builds a labelled geocoding set from the address tables, kept apart from the geocoder code
(it imports nothing from `geocoder` but its models' table names, read through SQL).

Each item: query text, combination (1–18, or 0 for a bare area), noise kind, and the truth:
``("point", lon, lat)`` (right within 30 m), ``("area", table, id)`` (the answer point must
lie in that polygon) or ``("road_in", road_id, area_id)`` (within 30 m of the road's part
inside the area). A query is only emitted when its answer is unique in the data (e.g. road +
building number only where one building on that road has that number).
"""

from __future__ import annotations

import random
from collections import defaultdict

from django.db import connection
from pypinyin import lazy_pinyin

NOISES = [
    "clean",
    "prefix",
    "qualifier",
    "typo",
    "homophone",
    "fullwidth",
    "numeral",
    "variant",
    "pinyin",
]
QUALIFIERS = ["附近", "对面", "旁边", "门口"]
PREFIXES = ["北京市", "北京市海淀区", "海淀区", "北京"]
# Real-text kinds (bench/README.md): bracketed remarks kept as qualifiers, and text whose right
# answer is nothing (truth ("none",)): another district, a street the road does not cross, a
# road one character away from a real one (龙吴路 for 龙门路), a district's name + 路.
REAL_TEXT = [
    "bracket_landmark",
    "entrance",
    "branch",
    "other_district",
    "other_street",
    "near_miss",
    "district_road",
]
ENTRANCES = ["b1入口", "东门", "2号口", "西南门", "a口", "北2门", "南门"]
OTHER_DISTRICTS = ["北京市朝阳区", "朝阳区", "丰台区", "西城区", "昌平区", "上海市崇明区"]
CN = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """13 → 十三, 105 → 一百零五, 1010 → 一千零一十 (written here apart from the geocoder)."""
    if n == 0:
        return "零"
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out, zero = out + "零", False
        out += ("" if (digit == 1 and value == 10 and not out) else CN[digit]) + unit
    return out


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


class Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.items: list[dict] = []
        self.names = {
            r[0]
            for r in rows(
                "SELECT name FROM geocoder_road UNION SELECT unnest(aliases) FROM geocoder_road "
                "UNION SELECT name FROM geocoder_placename UNION SELECT name FROM geocoder_compound "
                "UNION SELECT name FROM geocoder_organization UNION SELECT name FROM spatial_adminarea"
            )
        }
        self.chars = sorted({c for n in self.names for c in n})
        self.sounds: dict[str, list[str]] = {}
        for code in range(0x4E00, 0x9FA6):  # common CJK: what a pinyin input method offers
            char = chr(code)
            self.sounds.setdefault(lazy_pinyin(char)[0], []).append(char)

    def homophone(self, name: str) -> str | None:
        """One character replaced by another of the same pinyin (学院路 → 学园路), the slip a
        pinyin input method makes, never making another real name."""
        if len(name) < 3 or name.isdigit():
            return None
        for _ in range(10):
            i = self.rng.randrange(len(name) - 1)
            same = [c for c in self.sounds.get(lazy_pinyin(name[i])[0], []) if c != name[i]]
            if not same:
                continue
            out = name[:i] + self.rng.choice(same) + name[i + 1 :]
            if out not in self.names and not any(out in n for n in self.names):
                return out
        return None

    def typo(self, name: str) -> str | None:
        """One wrong or missing character that does not make another real name."""
        if len(name) < 3 or name.isdigit():
            return None
        for _ in range(10):
            i = self.rng.randrange(len(name) - 1)  # keep the generic last character
            if self.rng.random() < 0.5:
                out = name[:i] + name[i + 1 :]
            else:
                out = name[:i] + self.rng.choice(self.chars) + name[i + 1 :]
            if out != name and out not in self.names and not any(out in n for n in self.names):
                return out
        return None

    def add(
        self,
        combination: int,
        name: str,
        tail: str,
        truth: tuple,
        aliases=(),
        numbers: tuple = (),
        head: str = "",
    ) -> None:
        """Emits the clean query and every noisy variant that applies; `name` is the main name, `tail` the
        numbers part, `numbers` the (n, unit) pairs behind `tail` for numeral noise."""
        clean = head + name + tail
        self.items.append(
            {"q": clean, "combination": combination, "noise": "clean", "truth": truth}
        )
        for noise in NOISES[1:]:
            self._noisy(combination, name, tail, truth, aliases, numbers, head, clean, noise)

    def _noisy(self, combination, name, tail, truth, aliases, numbers, head, clean, noise):
        q = None
        if noise == "prefix":
            q = self.rng.choice(PREFIXES) + clean
        elif noise == "qualifier":
            q = clean + self.rng.choice(QUALIFIERS)
        elif noise == "typo":
            bad = self.typo(name)
            q = head + bad + tail if bad else None
        elif noise == "homophone":
            bad = self.homophone(name)
            q = head + bad + tail if bad else None
        elif noise == "fullwidth" and any(c.isdigit() for c in clean):
            q = fullwidth(clean)
        elif noise == "numeral" and numbers:
            q = head + name + "".join(cn_number(n) + unit for n, unit in numbers)
        elif noise == "variant":
            if aliases:
                q = head + self.rng.choice(list(aliases)) + tail
            elif tail.endswith("号楼"):
                q = head + name + tail[:-2] + self.rng.choice(["栋", "幢", "座"])
        elif noise == "pinyin" and not head and all("\u4e00" <= c <= "\u9fff" for c in name):
            q = "".join(lazy_pinyin(name)) + tail
        if q and q != clean:
            self.items.append({"q": q, "combination": combination, "noise": noise, "truth": truth})


def build(seed: int = 7, per_combination: int = 400) -> list[dict]:
    """Gives the labelled items (clean + noisy) over every combination the data supports."""
    b = Builder(seed)
    rng = b.rng

    def sample(items, k=per_combination):
        items = list(items)
        rng.shuffle(items)
        return items[:k]

    areas = {r[0]: r[1:] for r in rows("SELECT id, name, level, parent_id FROM spatial_adminarea")}
    road_alias = {r[0]: r[1] for r in rows("SELECT name, aliases FROM geocoder_road")}
    # 1 and 2: a road with its part inside a street (or a community of it).
    for rid, rname, aid in sample(
        rows(
            "SELECT r.id, r.name, a.id FROM geocoder_road r JOIN spatial_adminarea a"
            " ON a.level = 'street' AND ST_Length(ST_Intersection(r.geom, a.geom)::geography) > 100"
        )
    ):
        b.add(1, rname, "", ("road_in", rid, aid), road_alias[rname], head=areas[aid][0])
    for rid, rname, cid in sample(
        rows(
            "SELECT r.id, r.name, a.id FROM geocoder_road r JOIN spatial_adminarea a"
            " ON a.level = 'community' AND ST_Length(ST_Intersection(r.geom, a.geom)::geography) > 100"
        )
    ):
        street = areas[cid][2]
        b.add(
            2,
            rname,
            "",
            ("road_in", rid, cid),
            road_alias[rname],
            head=areas[street][0] + areas[cid][0],
        )
    doors = rows(
        "SELECT d.id, r.name, d.number, d.suffix, ST_X(d.geom), ST_Y(d.geom)"
        " FROM geocoder_dooraddress d JOIN geocoder_road r ON r.id = d.road_id"
    )
    # 3: road + door.
    for _, rname, n, suffix, lon, lat in sample(doors):
        if suffix:
            continue
        b.add(3, rname, f"{n}号", ("point", lon, lat), road_alias[rname], ((n, "号"),))
    owners = rows(
        "SELECT r.name, d.number, d.suffix, b.number, ST_X(b.geom), ST_Y(b.geom), r.id"
        " FROM geocoder_building b"
        " LEFT JOIN geocoder_compound c ON c.id = b.compound_id"
        " LEFT JOIN geocoder_organization o ON o.id = b.organization_id"
        " JOIN geocoder_dooraddress d ON d.id = coalesce(c.door_id, o.door_id)"
        " JOIN geocoder_road r ON r.id = d.road_id"
    )
    per_road_number = defaultdict(int)
    for rname, _, _, bnum, *_ in owners:
        per_road_number[(rname, bnum)] += 1
    for rname, n, suffix, bnum, lon, lat, _ in sample(owners):
        if suffix or not bnum.isdigit():
            continue
        b.add(
            4,
            rname,
            f"{n}号{bnum}号楼",
            ("point", lon, lat),
            road_alias[rname],
            ((n, "号"), (int(bnum), "号楼")),
        )
        if per_road_number[(rname, bnum)] == 1:
            b.add(
                5,
                rname,
                f"{bnum}号楼",
                ("point", lon, lat),
                road_alias[rname],
                ((int(bnum), "号楼"),),
            )
    for name, rname, lon, lat in sample(
        rows(
            "SELECT o.name, r.name, ST_X(o.geom), ST_Y(o.geom) FROM geocoder_organization o"
            " JOIN geocoder_road r ON r.id = o.road_id WHERE o.kind = 'storefront'"
        )
    ):
        b.add(6, name, "", ("point", lon, lat), head=rname)
    for name, lon, lat in sample(
        rows("SELECT name, ST_X(geom), ST_Y(geom) FROM geocoder_placename")
    ):
        b.add(7, name, "", ("point", lon, lat))
    for name, n, rname, lon, lat in sample(
        rows(
            "SELECT p.name, d.number, r.name, ST_X(d.geom), ST_Y(d.geom) FROM geocoder_placename p"
            " JOIN geocoder_dooraddress d ON d.id = p.door_id JOIN geocoder_road r ON r.id = d.road_id"
            " WHERE d.suffix = ''"
        )
    ):
        b.add(8, name, f"{n}号", ("point", lon, lat), numbers=((n, "号"),))
        b.add(11, name + rname, f"{n}号", ("point", lon, lat), numbers=((n, "号"),))
    for name, lon, lat in sample(
        rows(
            "SELECT name, ST_X(geom), ST_Y(geom) FROM geocoder_organization"
            " WHERE kind = 'organization'"
        )
    ):
        b.add(12, name, "", ("point", lon, lat))
    for name, bnum, lon, lat in sample(
        rows(
            "SELECT o.name, b.number, ST_X(b.geom), ST_Y(b.geom) FROM geocoder_building b"
            " JOIN geocoder_organization o ON o.id = b.organization_id"
        )
    ):
        if bnum.isdigit():
            b.add(13, name, f"{bnum}号楼", ("point", lon, lat), numbers=((int(bnum), "号楼"),))
    compounds = rows(
        "SELECT c.id, c.name, c.aliases, ST_X(c.entrance), ST_Y(c.entrance), s.id, m.id"
        " FROM geocoder_compound c"
        " JOIN spatial_adminarea m ON m.level = 'community' AND ST_Intersects(m.geom, c.entrance)"
        " JOIN spatial_adminarea s ON s.id = m.parent_id"
    )
    for _, name, aliases, lon, lat, sid, cid in sample(compounds):
        b.add(14, name, "", ("point", lon, lat), aliases, head=areas[sid][0])
        b.add(15, name, "", ("point", lon, lat), aliases, head=areas[sid][0] + areas[cid][0])
    for name, bnum, lon, lat in sample(
        rows(
            "SELECT c.name, b.number, ST_X(b.geom), ST_Y(b.geom) FROM geocoder_building b"
            " JOIN geocoder_compound c ON c.id = b.compound_id"
        )
    ):
        if bnum.isdigit():
            b.add(10, name, f"{bnum}号楼", ("point", lon, lat), numbers=((int(bnum), "号楼"),))
    for yard, n, lon, lat in sample(
        rows(
            "SELECT d.courtyard, d.number, ST_X(d.geom), ST_Y(d.geom) FROM geocoder_dooraddress d"
            " WHERE d.courtyard <> '' AND d.suffix = ''"
            " UNION ALL SELECT c.name, d.number, ST_X(d.geom), ST_Y(d.geom) FROM geocoder_compound c"
            " JOIN geocoder_dooraddress d ON d.id = c.door_id WHERE d.suffix = ''"
        )
    ):
        b.add(16, yard, f"{n}号", ("point", lon, lat), numbers=((n, "号"),))
    for gid, code in sample(rows("SELECT id, code FROM spatial_unitgrid")):
        b.add(17, code, "", ("area", "spatial_unitgrid", gid))
    for code, lon, lat in sample(
        rows(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p"
            " FROM spatial_component) c"
        )
    ):
        b.add(18, code, "", ("point", lon, lat))
    for aid, (name, level, _) in areas.items():
        b.add(0, name, "", ("area", "spatial_adminarea", aid))
    real_text(b, sample, areas, doors)
    return b.items


def real_text(b: Builder, sample, areas: dict, doors: list[tuple]) -> None:
    """Adds the real-text kinds (REAL_TEXT) over sampled doors, organizations and storefronts."""
    rng = b.rng
    roads = sorted({r[1] for r in doors})
    crossed = defaultdict(set)  # road name → streets it crosses
    for rname, sid in rows(
        "SELECT r.name, a.id FROM geocoder_road r JOIN spatial_adminarea a"
        " ON a.level = 'street' AND ST_Intersects(r.geom, a.geom)"
    ):
        crossed[rname].add(sid)
    streets = [aid for aid, (_, level, _) in areas.items() if level == "street"]
    districts = [name for name, level, _ in areas.values() if level == "district"]

    def item(q: str, combination: int, noise: str, truth: tuple) -> None:
        b.items.append({"q": q, "combination": combination, "noise": noise, "truth": truth})

    for _, rname, n, suffix, lon, lat in sample(doors):
        if suffix:
            continue
        truth = ("point", lon, lat)
        near = rng.choice([r for r in roads if r != rname])
        item(f"{rname}{n}号(近{near})", 3, "bracket_landmark", truth)
        item(f"{rname}{n}号({rng.choice(ENTRANCES)})", 3, "entrance", truth)
        item(f"{rname}{n}号({rng.choice(roads)[:2]}店)", 3, "branch", truth)
        item(f"{rng.choice(OTHER_DISTRICTS)}{rname}{n}号", 3, "other_district", ("none",))
        others = [s for s in streets if s not in crossed[rname]]
        if others:
            street = areas[rng.choice(others)][0]
            item(f"{street}{rname}{n}号", 3, "other_street", ("none",))
        bad = b.typo(rname)
        if bad:  # as many near misses as road + door typos: the text cannot tell them apart
            item(f"{bad}{n}号", 3, "near_miss", ("none",))
    for name, lon, lat in sample(
        rows(
            "SELECT name, ST_X(geom), ST_Y(geom) FROM geocoder_organization"
            " WHERE kind = 'organization'"
        )
    ):
        item(f"{name}({rng.choice(ENTRANCES)})", 12, "entrance", ("point", lon, lat))
    for name, rname, lon, lat in sample(
        rows(
            "SELECT o.name, r.name, ST_X(o.geom), ST_Y(o.geom) FROM geocoder_organization o"
            " JOIN geocoder_road r ON r.id = o.road_id WHERE o.kind = 'storefront'"
        )
    ):
        item(f"{name}({rname[:2]}店)", 12, "branch", ("point", lon, lat))
    stems = [d[:-1] for d in districts if len(d) >= 3]
    for stem in stems:
        for suffix in ("路", "街", "大街", "胡同"):
            if stem + suffix in b.names:
                continue
            for _ in range(10):
                item(f"{stem}{suffix}{rng.randrange(1, 300)}号", 3, "district_road", ("none",))
