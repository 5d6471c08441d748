"""Gives which column of a file holds which address field: the caller's mapping
(`路名=ROAD,门牌号=NO`), else the first column whose name is one people use for it (路名,
道路名称, 门牌号, 小区名, 单位名称, 地址, ...)."""

from __future__ import annotations

from core.errors import BadInput

# Field → the column names it is known by (the first is its label in messages and --map).
FIELDS: dict[str, tuple[str, ...]] = {
    "road": (
        "路名",
        "道路名称",
        "道路名",
        "街路巷名",
        "街路巷",
        "道路",
        "road",
        "street",
        "road_name",
    ),
    "number": ("门牌号", "门牌", "门址号", "门牌号码", "号", "housenumber", "number", "door"),
    "building": ("楼牌号", "楼号", "楼栋号", "楼栋", "楼座", "building"),
    "compound": ("小区名", "小区名称", "小区", "院落名称", "院落", "compound", "courtyard"),
    "organization": ("单位名称", "单位", "企业名称", "机构名称", "organization", "org"),
    "storefront": ("沿街铺面", "铺面名称", "店铺名称", "店名", "storefront", "shop"),
    "place": ("地名", "地名名称", "名称", "name", "place"),
    "address": ("地址", "详细地址", "标准地址", "门址", "address", "full_address"),
    "aliases": ("别名", "曾用名", "又名", "简称", "alias", "aliases"),
    "type": ("类型", "类别", "地名类别", "type", "category"),
    "road_class": ("道路等级", "道路类型", "等级", "road_class", "highway"),
    "left_from": ("左起号", "左侧起始门牌", "left_from"),
    "left_to": ("左止号", "左侧终止门牌", "left_to"),
    "right_from": ("右起号", "右侧起始门牌", "right_from"),
    "right_to": ("右止号", "右侧终止门牌", "right_to"),
    "from_number": ("起始门牌", "起始门牌号", "起号", "from_number"),
    "to_number": ("终止门牌", "终止门牌号", "止号", "to_number"),
}
_ALIAS = {alias.lower(): field for field, names in FIELDS.items() for alias in names}


def field_of(name: str) -> str | None:
    """Gives the field a column or mapping key names (路名 → road), else None."""
    return _ALIAS.get(str(name).strip().lower())


def parse_mapping(text: str | dict | None) -> dict[str, str]:
    """Gives {field: column} from `路名=ROAD,门牌号=NO` (or a dict); keys are any name of a
    field, Chinese or English; `BadInput` (field "map") for an unknown key."""
    if not text:
        return {}
    pairs = text.items() if isinstance(text, dict) else _pairs(str(text))
    out: dict[str, str] = {}
    for key, column in pairs:
        field = field_of(key) or (key if key in FIELDS else None)
        if field is None:
            known = ", ".join(names[0] for names in FIELDS.values())
            raise BadInput(f"--map names no address field {key!r}; fields: {known}", field="map")
        if not str(column).strip():
            raise BadInput(f"--map gives no column for {key!r}", field="map")
        out[field] = str(column).strip()
    return out


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.replace("，", ",").split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise BadInput(f"--map items are FIELD=COLUMN; got {item!r}", field="map")
        key, column = item.split("=", 1)
        pairs.append((key.strip(), column.strip()))
    return pairs


def columns_for(mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    """Gives {field: column} for a file: the mapped columns (each must exist) and, for fields
    not mapped, the first column known by one of the field's names."""
    present = {str(c): c for c in columns}
    out: dict[str, str] = {}
    for field, column in mapping.items():
        if column not in present:
            raise BadInput(
                f"the file has no column {column!r} (for {FIELDS[field][0]}); it has "
                f"{', '.join(map(str, columns))}",
                field="map",
            )
        out[field] = present[column]
    taken = set(out.values())
    for column in columns:
        field = field_of(column)
        if field and field not in out and column not in taken:
            out[field] = column
            taken.add(column)
    return out


def label(field: str) -> str:
    """Gives the Chinese label of a field for messages (road → 路名)."""
    return FIELDS[field][0]
