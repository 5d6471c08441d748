"""The address parser: free Chinese text → tokens (names, door and building numbers, codes,
qualifiers) → interpretations tagged with the spec's combination number (组合编号, 5.1.6).

Names come from the gazetteer by longest match; numbers are read after names so 三里屯 stays a
name while 十三号 becomes door 13; unmatched runs are prefixes (北京市…区, dropped with a note),
stop words, or typos sent to the fuzzy index.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

from .dictionary import AREA_KINDS, Entry, Gazetteer, name_grams
from .normalize import MAX_QUERY_CHARS, clean, number_value

QUALIFIERS = sorted(
    [
        "附近",
        "对面",
        "斜对面",
        "旁边",
        "旁",
        "门口",
        "门前",
        "周边",
        "一带",
        "路口",
        "交叉口",
        "东侧",
        "西侧",
        "南侧",
        "北侧",
        "东边",
        "西边",
        "南边",
        "北边",
        "后面",
        "前面",
        "边上",
        "隔壁",
        "里面",
        "内",
        "外",
        "处",
    ],
    key=len,
    reverse=True,
)
STOP_CHARS = set(" 的在了是和与及-/#()[]{}:.\"'")
_NUM = r"\d+|[零〇一二两三四五六七八九十百千]+"
NUMBER_RE = re.compile(
    rf"(?P<pre>[甲乙丙丁])?(?P<num>{_NUM})(?:(?:-|之)(?P<sub>\d+|[一二三四五六七八九十]+))?"
    r"(?P<unit>号楼|号院|号|栋|幢|座|楼|单元|室|层|门)?"
)
LETTER_BUILDING_RE = re.compile(r"(?P<num>[a-z])(?P<unit>座|栋|幢|号楼)")
CODE_RE = re.compile(r"\d{16}|\d{14}")
# 小区 (a compound), 社区, 园区, 校区, 景区 and 厂区 end in 区 but are never a district.
NOT_DISTRICT = "小社园校景厂"
PREFIX_RE = re.compile(
    r"^(?:中国)?(?:[^\d]{1,8}?(?:省|自治区))?(?P<city>[^\d]{1,6}?市)?"
    rf"(?P<district>[^\d]{{1,6}}?(?:(?<![{NOT_DISTRICT}])区|县|旗))?"
)
# A road-name ending after an area's short name (黄浦 + 路): the whole is tried as a road.
ROAD_SUFFIX_RE = re.compile(r"大街|大道|胡同|路|街|巷|弄")
# Bracketed remarks people add to an address; each is kept as a qualifier, never as the address.
BRACKET_RE = re.compile(r"\(([^()]{1,20})\)")
LANDMARK_RE = re.compile(r"^(?:近|靠近|临近|邻近|近旁|挨着)(.+)$")
ENTRANCE_RE = re.compile(
    r"^(?:[a-z]\d{0,2}|\d{1,2}号?|[东西南北]{1,2}(?:\d{1,2}号?)?|正|侧|后|前)?"
    r"(?:出入口|入口|出口|口|门)$"
)
ENTRANCE_TAIL_RE = re.compile(r"[a-z]\d{1,2}(?:出入口|入口|出口)|\d{1,2}号(?:出入口|入口|出口|口)")
BRANCH_RE = re.compile(r"^.{1,12}(?:分店|店|分行|支行|营业厅|营业部|分部|分公司|校区)$")
BUILDING_UNITS = {"号楼", "栋", "幢", "座", "楼"}
DETAIL_UNITS = {"单元", "室", "层", "门"}
FUZZY_MIN = 0.6
FUZZY_TIES = 8
JOIN_MAX = 2  # a residue this short may be the torn-off end of a misspelt name
JOIN_MIN = 0.75
CONTEXT_BONUS = 0.1
MAX_INTERPRETATIONS = 48
PREFIX_OVER_TYPO = 0.7  # below this, a leading 某市/某区 run is a prefix, not a typo
UNUSED_NAME = 0.8  # a reading that ignores a recognized name is less likely

QUALIFIER_KINDS = ("qualifier", "landmark", "entrance", "branch")

# Which named kinds play which role in a combination.
PLACE_KINDS = {"place"}
COURTYARD_KINDS = {"compound", "courtyard"}
ORG_KINDS = {"organization", "storefront"}


@dataclass
class Token:
    kind: str  # name door building detail code qualifier landmark entrance branch prefix residue
    text: str
    start: int
    end: int
    entries: list[Entry] = field(default_factory=list)
    number: int | None = None
    suffix: str = ""
    similarity: float = 1.0


@dataclass
class Parse:
    text: str
    tokens: list[Token]

    @property
    def qualifiers(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind in QUALIFIER_KINDS]

    @property
    def foreign_area(self) -> str | None:
        """Gives the district named in a prefix when the gazetteer holds no such district
        (朝阳区 in a city whose data has only 海淀区): nothing in the data lies there."""
        return next((t.suffix for t in self.tokens if t.kind == "prefix" and t.suffix), None)

    @property
    def stated_city(self) -> str | None:
        """Gives the city (…市) a prefix names, if any (上海市 in 上海市崇明区大田路180号)."""
        for t in self.tokens:
            if t.kind == "prefix":
                m = PREFIX_RE.match(t.text)
                if m and m.group("city"):
                    return m.group("city")
        return None

    @property
    def exact(self) -> bool:
        """Whether every name was read as written (no typo, homophone or road-like guess)."""
        return all(t.similarity >= 1.0 for t in self.names)

    def first(self, kind: str) -> Token | None:
        return next((t for t in self.tokens if t.kind == kind), None)

    @property
    def names(self) -> list[Token]:
        return [t for t in self.tokens if t.kind == "name"]


@dataclass
class Interpretation:
    """One reading of a parse: which entry each name stands for, and the combination."""

    combination: int | None
    main: Entry | None
    road: Entry | None = None
    place: Entry | None = None
    district: Entry | None = None
    street: Entry | None = None
    community: Entry | None = None
    door: Token | None = None
    building: Token | None = None
    code: str | None = None
    similarity: float = 1.0


def parse(query: str, g: Gazetteer) -> Parse:
    """Gives the tokens of `query` read against the gazetteer `g`."""
    text = clean(query)[:MAX_QUERY_CHARS]
    tokens = _scan(text, g)
    tokens = _explain_residue(tokens, text, g)
    return Parse(text, tokens)


def _longest_name(text: str, i: int, g: Gazetteer) -> tuple[int, list[Entry]] | None:
    for j in range(min(len(text), i + g.max_len), i + 1, -1):
        bucket = g.names.get(text[i:j])
        if bucket:
            return j, bucket
    return None


def _longest_pinyin_name(text: str, i: int, g: Gazetteer) -> tuple[int, list[Entry]] | None:
    """Longest match where Latin letters stand for the pinyin of a name (xueyuan路 → 学院路)."""
    for j in range(min(len(text), i + g.max_len), i + 2, -1):
        chunk = text[i:j]
        if not chunk[-1].isalnum():
            continue
        bucket = g.names.get("".join(lazy_pinyin(chunk)).replace(" ", ""))
        if bucket:
            return j, bucket
    return None


def _scan(text: str, g: Gazetteer) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        code = CODE_RE.match(text, i) if ch.isdigit() else None
        if code and not text[code.end() : code.end() + 1].isdigit():
            tokens.append(Token("code", code.group(), i, code.end()))
            i = code.end()
            continue
        remark = _remark_at(text, i) if ch == "(" else None
        if remark is not None:
            tokens.append(remark)
            i = remark.end
            continue
        named = _longest_name(text, i, g)
        if named is None and ch.isascii() and ch.isalpha():
            named = _longest_pinyin_name(text, i, g)
        road_like = _road_like(text, i, named)
        if road_like is not None:
            tokens.append(road_like)
            i = road_like.end
            continue
        if named:
            j, entries = named
            tokens.append(Token("name", text[i:j], i, j, entries=list(entries)))
            i = j
            continue
        entrance = ENTRANCE_TAIL_RE.match(text, i)
        if entrance and _only_qualifiers_after(text, entrance.end()):
            tokens.append(Token("entrance", entrance.group(), i, entrance.end()))
            i = entrance.end()
            continue
        number = _number_at(text, i, tokens)
        if number:
            tokens.append(number)
            i = number.end
            continue
        qualifier = next(
            (
                q
                for q in QUALIFIERS
                if text.startswith(q, i) and (len(q) > 1 or _only_qualifiers_after(text, i + 1))
            ),
            None,
        )
        if qualifier:
            tokens.append(Token("qualifier", qualifier, i, i + len(qualifier)))
            i += len(qualifier)
            continue
        if tokens and tokens[-1].kind == "residue" and tokens[-1].end == i:
            tokens[-1].text += ch
            tokens[-1].end = i + 1
        else:
            tokens.append(Token("residue", ch, i, i + 1))
        i += 1
    return tokens


def _remark_at(text: str, i: int) -> Token | None:
    """Gives the bracketed remark at `i` as a landmark (近北京西路), entrance (b1入口, 东门,
    2号口) or branch (徐汇店) token, or None when the brackets hold something else."""
    m = BRACKET_RE.match(text, i)
    if m is None:
        return None
    inner = m.group(1).strip()
    landmark = LANDMARK_RE.match(inner)
    if landmark:
        return Token("landmark", inner, i, m.end())
    if ENTRANCE_RE.match(inner):
        return Token("entrance", inner, i, m.end())
    if BRANCH_RE.match(inner):
        return Token("branch", inner, i, m.end())
    return None


def _road_like(text: str, i: int, named: tuple[int, list[Entry]] | None) -> Token | None:
    """Gives a residue token for an area's short name followed by a road ending (黄浦 + 路)
    that the gazetteer does not hold whole: a road named after a district (黄浦路, 长宁路) is
    far commoner than a district followed by a stray 路, so it is looked up as a road."""
    if named is None or any(e.kind not in AREA_KINDS for e in named[1]):
        return None
    j = named[0]
    tail = ROAD_SUFFIX_RE.match(text, j)
    if tail is None:
        return None
    return Token("residue", text[i : tail.end()], i, tail.end(), suffix="road")


def _only_qualifiers_after(text: str, i: int) -> bool:
    """Whether nothing but qualifiers and stop characters follow position `i` (a one-character
    qualifier such as 旁 or 处 counts only at the end, never inside a name)."""
    rest = text[i:]
    while rest:
        q = next((q for q in QUALIFIERS if rest.startswith(q)), None)
        if q:
            rest = rest[len(q) :]
        elif rest[0] in STOP_CHARS:
            rest = rest[1:]
        else:
            return False
    return True


def _number_at(text: str, i: int, before: list[Token]) -> Token | None:
    letter = LETTER_BUILDING_RE.match(text, i)
    if letter:
        return Token("building", letter.group("num"), i, letter.end())
    m = NUMBER_RE.match(text, i)
    if not m:
        return None
    num, unit = m.group("num"), m.group("unit")
    if not unit and not num.isdigit():
        return None  # a Chinese numeral with no unit is part of some text, not a number
    value = number_value(num)
    if value is None:
        return None
    sub = m.group("sub")
    suffix = (m.group("pre") or "") + (f"之{number_value(sub)}" if sub else "")
    has_door = any(t.kind == "door" for t in before)
    if unit in BUILDING_UNITS or (unit is None and has_door):
        return Token("building", str(value), i, m.end(), number=value)
    if unit in DETAIL_UNITS or (unit is None and any(t.kind == "building" for t in before)):
        return Token("detail", m.group(), i, m.end(), number=value)
    return Token("door", m.group(), i, m.end(), number=value, suffix=suffix)


def _explain_residue(tokens: list[Token], text: str, g: Gazetteer) -> list[Token]:
    """Marks prefixes and stop words, and replaces typo runs by fuzzy-matched names."""
    out: list[Token] = []
    first_name_seen = False
    consumed = 0  # tokens ending before this were swallowed by a fuzzy name
    for idx, tok in enumerate(tokens):
        if tok.end <= consumed:
            continue
        if tok.kind != "residue":
            first_name_seen |= tok.kind == "name"
            out.append(tok)
            continue
        body = "".join(ch for ch in tok.text if ch not in STOP_CHARS)
        if not body:
            continue
        after = tokens[idx + 1] if idx + 1 < len(tokens) else None
        fuzzy = _fuzzy_token(tok, out, after, text, g)
        if not first_name_seen and (fuzzy is None or fuzzy.similarity < PREFIX_OVER_TYPO):
            prefix = PREFIX_RE.match(tok.text) if tok.suffix != "road" else None
            if prefix and prefix.end() > 0:
                out.append(
                    Token(
                        "prefix",
                        prefix.group(),
                        tok.start,
                        tok.start + prefix.end(),
                        suffix=prefix.group("district") or "",
                    )
                )
                rest = tok.text[prefix.end() :]
                if not rest.strip():
                    continue
                tok = Token("residue", rest, tok.start + prefix.end(), tok.end)
                fuzzy = _fuzzy_token(tok, out, after, text, g)
        if fuzzy is None:
            out.append(tok)
            continue
        while out and out[-1].start >= fuzzy.start:
            out.pop()
        out.append(fuzzy)
        consumed = fuzzy.end
    return [t for t in out if t.kind != "residue" or t.text]


def _fuzzy_token(
    tok: Token, before: list[Token], after: Token | None, text: str, g: Gazetteer
) -> Token | None:
    """Gives the best name within one typo of the residue, alone or joined to a neighbour."""
    road_like = tok.suffix == "road"
    spans = [(tok.start, tok.end)]
    if "(" in tok.text and ")" in text[tok.end :]:
        # a branch name in brackets (张记包子铺(学院路店)) belongs to the misspelt name before it
        spans.insert(0, (tok.start, text.index(")", tok.end) + 1))
    left = (
        before[-1] if before and before[-1].kind == "name" and before[-1].end == tok.start else None
    )
    right = after if after is not None and after.kind == "name" and after.start == tok.end else None
    if left:
        spans.append((left.start, tok.end))
    if right:
        spans.append((tok.start, right.end))
    if left and right:
        spans.append((left.start, right.end))
    context = {e.id for t in before if t.kind == "name" for e in t.entries if e.kind in AREA_KINDS}
    best: tuple[float, int, int, list[str]] | None = None
    for start, end in spans:
        probe = text[start:end]
        joined = (start, end) != (tok.start, tok.end) and not (start == tok.start and ")" in probe)
        short = len(tok.text) <= JOIN_MAX or tok.text.startswith("(")  # or a bracketed branch
        if len(probe) < 2 or (joined and (best is not None or not short)):
            continue  # join a neighbour only to a short residue that matches nothing alone
        own = {(e.kind, e.id) for t in (left, right) if t is not None for e in t.entries}
        for name, sim in fuzzy_names(probe, g):
            if road_like and not any(e.kind == "road" for e in g.names[name]):
                continue  # 黄埔路 may be 黄浦路, never the district 黄浦区
            if sim < (JOIN_MIN if joined else FUZZY_MIN) or (
                joined
                and (
                    {(e.kind, e.id) for e in g.names[name]} <= own
                    or any(
                        t is not None and t.text not in name
                        for t in (left, right)
                        if t is not None and t.start >= start and t.end <= end
                    )
                )
            ):
                continue  # a joined name must extend the neighbour it swallows
            rank = sim - 0.02 * joined
            if context and any(g.within(e, a) for e in g.names[name] for a in context):
                rank += CONTEXT_BONUS  # the street or community the caller named holds it
            if best is None or rank > best[0] + 1e-9:
                best = (rank, start, end, [name])
            elif abs(rank - best[0]) <= 1e-9 and (start, end) == best[1:3]:
                best[3].append(name)  # equally close names: let the context choose
    if best is None:
        return None
    _, start, end, names = best
    sim = similarity(text[start:end], names[0], g)
    entries = [
        e for name in names[:FUZZY_TIES] for e in g.names[name] if not road_like or e.kind == "road"
    ]
    return Token("name", names[0], start, end, entries=entries, similarity=sim)


def fuzzy_names(probe: str, g: Gazetteer, limit: int = 60) -> list[tuple[str, float]]:
    """Gives names sharing a bigram or skip-bigram with `probe`, with their similarity.

    Similarity is Levenshtein over characters, raised halfway towards Levenshtein over the
    characters' pinyin: pinyin input methods make homophones (学园路 for 学院路) the commonest
    slip, so a same-sound character costs half a wrong one.
    """
    counts: dict[str, int] = {}
    for gram in name_grams(probe):
        for name in g.grams.get(gram, ()):
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return []
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[: limit * 4]
    sounds = lazy_pinyin(probe)
    heard = tuple(sounds) if len(sounds) == len(probe) else None
    scored = [(name, similarity(probe, name, g, heard)) for name, _ in ranked]
    scored.sort(key=lambda kv: -kv[1])
    return scored[:limit]


def similarity(probe: str, name: str, g: Gazetteer, heard: tuple | None = None) -> float:
    """Gives the typo similarity of `probe` to the gazetteer name `name` (see fuzzy_names)."""
    sim = Levenshtein.normalized_similarity(probe, name)
    if heard is None:
        sounds = lazy_pinyin(probe)
        heard = tuple(sounds) if len(sounds) == len(probe) else None
    other = g.syllables.get(name)
    if heard is not None and other is not None:
        sim = max(sim, (sim + Levenshtein.normalized_similarity(heard, other)) / 2)
    return sim


def interpretations(p: Parse) -> list[Interpretation]:
    """Gives every reading of the parse, each tagged with its combination number."""
    code = p.first("code")
    if code is not None:
        return [Interpretation(17 if len(code.text) == 14 else 18, None, code=code.text)]
    names = p.names
    if not names:
        return []
    door, building = p.first("door"), p.first("building")
    out: list[Interpretation] = []
    choices = [t.entries[:FUZZY_TIES] for t in names]
    for combo in itertools.islice(itertools.product(*choices), MAX_INTERPRETATIONS):
        sim = min(t.similarity for t in names)
        reading = _classify(list(combo), door, building, sim)
        if reading is not None:
            out.append(reading)
    return out


def _classify(
    entries: list[Entry], door: Token | None, building: Token | None, sim: float
) -> Interpretation | None:
    """Gives the interpretation for one choice of entries, or None when it makes no sense."""
    roles: dict[str, Entry] = {}
    for e in entries:
        role = e.kind
        if role in PLACE_KINDS:
            role = "place"
        elif role in COURTYARD_KINDS:
            role = "courtyard"
        elif role in ORG_KINDS:
            role = "org"
        if role in roles:
            if roles[role].id != e.id:
                return None  # two different roads (or places…) in one address
            continue
        roles[role] = e
    r = Interpretation(None, None, door=door, building=building, similarity=sim)
    r.district, r.street, r.community = (
        roles.get("district"),
        roles.get("street"),
        roles.get("community"),
    )
    road, place, yard, org = (
        roles.get("road"),
        roles.get("place"),
        roles.get("courtyard"),
        roles.get("org"),
    )
    r.road, r.place = road, place
    has_door, has_bldg = door is not None, building is not None
    if org is not None and road is not None and org.kind == "storefront":
        r.combination, r.main = 6, org
    elif org is not None:
        r.combination, r.main = (13 if has_bldg else 12), org
    elif yard is not None and (has_door or has_bldg) and road is None and place is None:
        r.combination, r.main = (16 if has_door else 10), yard
    elif yard is not None and road is None and place is None:
        r.combination = 15 if r.community else 14 if r.street else 7
        r.main = yard
    elif road is not None and place is not None and has_door:
        r.combination, r.main = 11, road
    elif road is not None:
        r.main = road
        if has_door:
            r.combination = 4 if has_bldg else 3
        elif has_bldg:
            r.combination = 5
        elif r.street is not None:
            r.combination = 2 if r.community else 1
    elif place is not None:
        r.main = place
        r.combination = (9 if has_bldg else 8) if has_door else (10 if has_bldg else 7)
    elif yard is not None:
        r.main = yard
    else:
        r.main = r.community or r.street or r.district
    used = {id(e) for e in (r.main, r.district, r.street, r.community) if e is not None}
    if r.combination in (1, 2, 3, 4, 5, 6, 11):
        used |= {id(e) for e in (road, place) if e is not None}
    unused = sum(1 for e in roles.values() if id(e) not in used)
    r.similarity *= UNUSED_NAME**unused
    return r
