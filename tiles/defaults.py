"""Default tiling options for the core layers, installed after every migrate."""

from __future__ import annotations

COMPONENT_FILTERS = [
    {"name": "status", "column": "status", "type": "string"},
    {"name": "major", "column": "code", "type": "string", "substr": [7, 2]},
    {"name": "minor", "column": "code", "type": "string", "substr": [7, 4]},
    {"name": "category", "column": "category_id", "type": "integer"},
    {"name": "updated_since", "column": "updated_at", "type": "datetime", "op": ">="},
    {"name": "updated_until", "column": "updated_at", "type": "datetime", "op": "<="},
]


def install_default_tiling(sender=None, **kwargs) -> None:
    """Marks the component layer (部件) as a point layer with its filters, unless an admin has
    already configured it."""
    from spatial.models import Layer
    from tiles.models import LayerTiling

    for layer in Layer.objects.filter(key="components"):
        LayerTiling.objects.get_or_create(
            layer=layer, defaults={"points": True, "filters": COMPONENT_FILTERS}
        )
