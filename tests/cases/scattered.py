"""Cases scattered over two streets, some dispatched, for the map and export tests: made by the
actions as the centre would make them, so their placement, state and deadline are real."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.gis.geos import Point

from accounts.scoping import scope_for_user
from cases import actions
from cases.models import Case, Condition
from data.models import Category
from spatial.models import AdminArea


def points_in(area: AdminArea, n: int, seed: int) -> list[tuple[float, float]]:
    """Gives `n` random points inside `area` (the same ones for the same seed)."""
    rng = random.Random(seed)
    minx, miny, maxx, maxy = area.geom.extent
    found: list[tuple[float, float]] = []
    while len(found) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if area.geom.contains(Point(x, y, srid=4326)):
            found.append((x, y))
    return found


@dataclass
class Scattered:
    in_a: list[int]  # ids of street A's cases
    in_b: list[int]
    huanwei: list[int]  # dispatched to 环卫 (all in street A)
    components: list[int]  # the component cases (0103), all in street A
    hotline: int  # the one case with a reporter's name and phone (street A)


def scatter_cases(org, two_streets, in_a: int = 9, in_b: int = 4) -> Scattered:
    """Reports `in_a` cases in street A (three of them dispatched to 环卫, two component cases,
    one hotline call with a reporter) and `in_b` in street B, as the acceptor."""
    street_a, street_b = two_streets
    acceptor = scope_for_user(org["acceptor"].user)
    leader = scope_for_user(org["shiftleader"].user)
    dispatcher = scope_for_user(org["dispatcher"].user)
    garbage = Category.objects.get(kind="event", code="0102")
    cover = Category.objects.get(kind="component", code="0103")
    made = Scattered([], [], [], [], 0)
    for n, (lon, lat) in enumerate(points_in(street_a, in_a, seed=1)):
        category = cover if n in (1, 2) else garbage
        new = actions.NewCase("inspector", category, f"街道甲问题{n}", lon, lat, address=f"甲{n}号")
        if n == 0:
            new = actions.NewCase(
                "hotline",
                garbage,
                "热线反映垃圾堆积",
                lon,
                lat,
                reporter=actions.Reporter(name="王女士", phone="13800001234"),
            )
        case = actions.do_report_case(acceptor, new)
        made.in_a.append(case.pk)
        if category == cover:
            made.components.append(case.pk)
        if n == 0:
            made.hotline = case.pk
        if n in (3, 4, 5):
            condition = Condition.objects.filter(category=garbage, kind="register").first()
            actions.do_accept_case(acceptor, case.pk, version=1)
            actions.do_register_case(leader, case.pk, version=2, condition=condition.pk)
            actions.do_dispatch_case(dispatcher, case.pk, version=3)
            made.huanwei.append(case.pk)
    for n, (lon, lat) in enumerate(points_in(street_b, in_b, seed=2)):
        new = actions.NewCase("inspector", garbage, f"街道乙问题{n}", lon, lat)
        made.in_b.append(actions.do_report_case(acceptor, new).pk)
    assert Case.objects.filter(pk__in=made.huanwei, department__code="H-huanwei").count() == 3
    return made
