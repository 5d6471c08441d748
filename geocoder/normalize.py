"""Text normalization for address queries: full-width to half-width, Chinese numerals to
digits, variant spellings, control characters and spaces.

Everything the dictionary stores and every query goes through `clean` so both sides compare
equal; numerals are converted only where the parser knows a number stands (before 号, 栋, …),
never inside a name (三里屯 stays 三里屯).
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_CHARS = 200

_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CHINESE_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)

# Traditional or variant characters people type for the same address word.
_VARIANTS = str.maketrans(
    {
        "號": "号",
        "樓": "楼",
        "棟": "栋",
        "區": "区",
        "街": "街",
        "衚": "胡",
        "衕": "同",
        "－": "-",
        "—": "-",
        "–": "-",
        "~": "-",
        "、": " ",
        "，": " ",
        ",": " ",
        "。": " ",
        "；": " ",
        ";": " ",
    }
)
_SPACE_RE = re.compile(r"\s+")
_CJK_SPACE_RE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


def clean(text: str) -> str:
    """Gives `text` folded for matching: NFKC (full-width → half-width), variants unified,
    control characters dropped, lower-case Latin, no spaces next to Chinese characters."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n")
    text = text.translate(_VARIANTS).lower()
    text = _SPACE_RE.sub(" ", text).strip()
    return _CJK_SPACE_RE.sub("", text)


def chinese_to_int(numeral: str) -> int | None:
    """Gives the value of a Chinese numeral (十三 → 13, 一百零五 → 105, 一〇五 → 105), or None.

    Digit-by-digit forms (一〇五, 二三) are read positionally; forms with units (十, 百, 千)
    are read with place values; a leading 十 means 10 (十三 → 13).
    """
    if not numeral:
        return None
    if numeral.isdigit() and numeral.isascii():
        return int(numeral)
    if any(ch not in _DIGITS and ch not in _UNITS for ch in numeral):
        return None
    if not any(ch in _UNITS for ch in numeral):
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, current, last_unit = 0, None, 10_000
    for ch in numeral:
        if ch in _DIGITS:
            if current is not None and _DIGITS[ch] != 0:
                return None  # two digits in a row inside a unit form: 三四十
            current = _DIGITS[ch] if _DIGITS[ch] != 0 else None
        else:
            unit = _UNITS[ch]
            if unit >= last_unit:
                return None  # units must fall: 十百 is not a number
            total += (current if current is not None else 1) * unit
            current, last_unit = None, unit
    return total + (current or 0)


def number_value(text: str) -> int | None:
    """Gives the integer for Arabic digits or a Chinese numeral, or None."""
    if text.isascii() and text.isdigit():
        return int(text)
    return chinese_to_int(text)


def int_to_chinese(value: int) -> str:
    """Gives the Chinese numeral people say for 0 ≤ value < 10000 (13 → 十三, 105 → 一百零五)."""
    if value < 0 or value >= 10_000:
        raise ValueError("value out of range")
    if value == 0:
        return "零"
    names = "零一二三四五六七八九"
    parts: list[str] = []
    zero_pending = False
    for unit, label in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = value // unit % 10
        if digit == 0:
            if parts:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        if not (digit == 1 and unit == 10 and not parts):
            parts.append(names[digit])
        parts.append(label)
    return "".join(parts)
