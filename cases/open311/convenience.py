"""Convenience points (便民设施, spec 7.1.11 便民查询) from the city's own layers: public
toilets (component class 0301 公共厕所), car parks (0201 停车场), green spaces (0405 绿地, as
parks) and supermarkets (the address database's storefronts named 超市 or 便利店), each with the
standard address of reverse geocoding. `manage.py demo_convenience` loads them for the demo;
a city loads its own rows in the admin.
"""

from __future__ import annotations

from django.db import transaction

from geocoder.models import Organization
from geocoder.reverse import reverse
from spatial.models import Component

from .models import ConveniencePoint

K = ConveniencePoint.Kind
COMPONENT_KINDS = {
    "0301": (K.TOILET, "公共厕所"),
    "0201": (K.PARKING, "停车场"),
    "0405": (K.PARK, "绿地"),
}
MARKET_WORDS = ("超市", "便利店", "菜市场")
HOURS = {K.TOILET: "06:00-22:00", K.PARKING: "全天", K.PARK: "全天", K.MARKET: "07:00-22:00"}
SOURCE_PREFIX = "demo:"


def _address(lon: float, lat: float) -> str:
    return reverse(lon, lat).address or ""


def _rows():
    components = Component.objects.filter(category__code__in=list(COMPONENT_KINDS)).filter(
        category__kind="component"
    )
    for component in components.select_related("category").order_by("code"):
        kind, label = COMPONENT_KINDS[component.category.code]
        point = component.geom.point_on_surface if component.geom.dims else component.geom
        address = _address(point.x, point.y)
        place = address.rsplit("街道", 1)[-1].rsplit("区", 1)[-1] if address else ""
        yield ConveniencePoint(
            kind=kind,
            name=component.name or (f"{label}（{place}）" if place else label),
            address=address,
            contact="12345",
            opening_hours=HOURS[kind],
            geom=point,
            source=f"{SOURCE_PREFIX}component/{component.code}",
        )
    for shop in Organization.objects.filter(kind="storefront").order_by("id"):
        if not any(word in shop.name for word in MARKET_WORDS):
            continue
        point = shop.geom.point_on_surface if shop.geom.dims else shop.geom
        yield ConveniencePoint(
            kind=K.MARKET,
            name=shop.name,
            address=_address(point.x, point.y),
            opening_hours=HOURS[K.MARKET],
            geom=point,
            source=f"{SOURCE_PREFIX}storefront/{shop.pk}",
        )


def load_demo_points() -> int:
    """Replaces the demo convenience points with those of the current layers; gives the count."""
    rows = list(_rows())
    with transaction.atomic():
        ConveniencePoint.objects.filter(source__startswith=SOURCE_PREFIX).delete()
        ConveniencePoint.objects.bulk_create(rows, batch_size=500)
    return len(rows)
