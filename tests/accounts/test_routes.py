"""Walks every URL route of the project and checks its access control.

The routes come from the URL configuration itself (`get_resolver().url_patterns`, recursively),
not from a hand-kept list, so a new endpoint without access control fails here:

- anonymous callers: a route not marked `@public` (core.access) must not answer 2xx to any method;
  under the API prefixes it must answer 401 (or 405 for a method it doesn't have);
- a low-privilege user (a street inspector): writes to routes reserved to GIS admins (layers,
  map configuration, styles, themes, imports) or to organization managers must be refused
  (403, or 404/405), never 2xx; reading the logs is refused too;
- nobody ever gets a 5xx;
- the Django admin is skipped (it has its own sign-in) except that it must redirect anonymous
  callers to it;
- public routes that answer from the base geography (locate, identify, geocode, reverse,
  /nominatim, census) must answer anonymous callers, and people whose areas lie elsewhere,
  without rows of non-public layers: each has a probe aimed at such rows, which a system admin's
  answer must show (so the probe is known to hit).
"""

from __future__ import annotations

import json
import re
import re._parser as re_parser  # the stdlib's regex parser (sre_parse)
import warnings
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from core.access import is_public
from data.models import Category
from spatial.models import Component, ControlledArea, ResponsibilityGrid, TimingZone
from tests.accounts.conftest import SIDE, X0, Y0, square

METHODS = ["get", "post", "put", "patch", "delete"]
WRITE_METHODS = METHODS[1:]
API_PREFIXES = ("/api/", "/ogc", "/tiles", "/styles", "/nominatim")
GIS_ADMIN_SEGMENTS = {
    "layers",
    "mapconfig",
    "map-config",
    "map_config",
    "styles",
    "themes",
    "imports",
    "import",
    "uploads",
}
MANAGER_SEGMENTS = {"departments", "positions", "people", "roles"}
READ_RESTRICTED_SEGMENTS = {"logs"}
SAMPLES = {
    "int": ["1"],
    "slug": ["sample", "1"],
    "str": ["sample", "1"],
    "path": ["sample/1", "sample"],
    "uuid": ["00000000-0000-0000-0000-000000000001"],
}
REGEX_SAMPLES = ["1", "sample", "a", "00000000-0000-0000-0000-000000000001"]


def _route_parts(route: str) -> list[str]:
    """Splits a route string into literal text and `<conv:name>` placeholders."""
    return re.split(r"(<[^>]+>)", route)


def _route_samples(pattern: RoutePattern) -> list[str]:
    parts = _route_parts(str(pattern))
    candidates = [""]
    for part in parts:
        if part.startswith("<") and part.endswith(">"):
            conv = part[1:-1].split(":")[0] if ":" in part else "str"
            values = SAMPLES.get(conv, ["1", "sample"])
            candidates = [c + v for c in candidates for v in values]
        else:
            candidates = [c + part for c in candidates]
    return candidates


def _from_regex(tokens, value: str) -> str:
    """Gives a short string matching parsed regex `tokens`, with `value` for named groups."""
    out = []
    for op, arg in tokens:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            first_op, first_arg = arg[0]
            if str(first_op) == "NEGATE":
                out.append("a")
            elif str(first_op) == "LITERAL":
                out.append(chr(first_arg))
            elif str(first_op) == "RANGE":
                out.append(chr(first_arg[0]))
            elif str(first_op) == "CATEGORY":
                out.append("1" if "DIGIT" in str(first_arg) else "a")
            else:
                out.append("a")
        elif name == "CATEGORY":
            out.append("1" if "DIGIT" in str(arg) else "a")
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            out.append(_from_regex(sub, value) * low)
        elif name == "SUBPATTERN":
            group, _add, _del, sub = arg
            out.append(value if group is not None else _from_regex(sub, value))
        elif name == "BRANCH":
            out.append(_from_regex(arg[1][0], value))
        # AT (anchors) and the rest add nothing.
    return "".join(out)


def _regex_samples(pattern: RegexPattern) -> list[str]:
    parsed = re_parser.parse(pattern._regex)
    samples = [_from_regex(list(parsed), value) for value in REGEX_SAMPLES]
    return list(dict.fromkeys(s.lstrip("/") if s.startswith("//") else s for s in samples))


def _samples(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return _route_samples(pattern)
    return _regex_samples(pattern)


def walk(patterns, prefixes=("/",)) -> Iterator[tuple[list[str], object, str]]:
    """Yields (candidate paths, callback, route description) for every URL pattern."""
    for entry in patterns:
        paths = [p + s for p in prefixes for s in _samples(entry.pattern)]
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            yield from walk(entry.url_patterns, tuple(dict.fromkeys(paths)))
        elif isinstance(entry, URLPattern):
            yield paths, entry.callback, f"{prefixes[0]}{entry.pattern}"


def routes() -> list[tuple[str, object]]:
    """Gives one concrete path per route, checked to resolve to that route's view."""
    found, unbuilt = [], []
    for paths, callback, description in walk(get_resolver().url_patterns):
        for path in paths:
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.func is callback or getattr(match.func, "__wrapped__", None) is callback:
                found.append((path, callback))
                break
        else:
            unbuilt.append(description)
    if unbuilt:
        warnings.warn(f"no sample path resolves for: {unbuilt}", stacklevel=1)
    return found


def _segments(path: str) -> set[str]:
    return {s for s in path.strip("/").split("/") if s}


def _call(client: Client, method: str, path: str):
    kwargs = {"content_type": "application/json"} if method != "get" else {}
    data = "{}" if method != "get" else None
    return getattr(client, method)(path, data, **kwargs)


class SignedInClient(Client):
    """A client that signs its user in again before each request (a route may sign out)."""

    def __init__(self, user):
        super().__init__()
        self.signed_in_user = user

    def generic(self, *args, **kwargs):
        self.force_login(self.signed_in_user)
        return super().generic(*args, **kwargs)


@pytest.fixture
def inspector_client(make_person, streets) -> Client:
    person = make_person("route-inspector", ["cases.report", "cases.read"], [streets["A"]])
    return SignedInClient(person.user)


def test_the_walker_finds_this_package_routes(db):
    paths = {path for path, _ in routes()}
    for expected in (
        "/api/v1/me",
        "/api/v1/people/1",
        "/api/v1/people/1/permissions",
        "/api/v1/roles/1/apply",
        "/api/v1/logs/operations",
        "/accounts/login/",
    ):
        assert expected in paths, sorted(paths)


def test_every_route_refuses_anonymous_callers(client, db):
    problems = []
    found = routes()
    assert len(found) > 10
    for path, callback in found:
        if is_public(callback):
            for method in METHODS:
                status = _call(client, method, path).status_code
                if status >= 500:
                    problems.append(f"{method.upper()} {path}: public route answered {status}")
            continue
        for method in METHODS:
            status = _call(client, method, path).status_code
            if 200 <= status < 300 or status >= 500:
                problems.append(f"{method.upper()} {path}: anonymous got {status}")
            elif path.startswith(API_PREFIXES) and status not in (401, 405):
                problems.append(f"{method.upper()} {path}: anonymous got {status}, wanted 401")
    assert not problems, "\n".join(problems)


def test_low_privilege_user_cannot_write_admin_routes(inspector_client):
    problems = []
    found = routes()
    assert len(found) > 10
    for path, _callback in found:
        segments = _segments(path)
        reserved = segments & (GIS_ADMIN_SEGMENTS | MANAGER_SEGMENTS)
        for method in METHODS:
            response = _call(inspector_client, method, path)
            status = response.status_code
            if status >= 500:
                problems.append(f"{method.upper()} {path}: inspector got {status}")
            elif reserved and method in WRITE_METHODS and status not in (403, 404, 405):
                problems.append(f"{method.upper()} {path}: inspector got {status}, wanted 403")
            elif segments & READ_RESTRICTED_SEGMENTS and 200 <= status < 300:
                problems.append(f"{method.upper()} {path}: inspector got {status}")
    assert not problems, "\n".join(problems)


def test_django_admin_redirects_to_its_sign_in(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# Rows of non-public layers in street A, each carrying a marker no public answer may contain.
SECRET_CODE = "9901000101777777"
SECRETS = ("RG-SECRET-A", "密责任网格", "密计时区", "密管控区", "密管控原因", SECRET_CODE)
POINT = {"lon": X0 + 0.5 * SIDE, "lat": Y0 + 0.5 * SIDE}
SCOPED_PREFIXES = (
    "/api/v1/locate",
    "/api/v1/identify",
    "/api/v1/geocode",
    "/api/v1/reverse",
    "/nominatim",
    "/api/v1/stats/census",
)
HIDDEN_LAYERS = "responsibility_grids,timing_zones,controlled_areas,components"
# path: (query, whether a system admin's answer shows a secret)
PROBES = {
    "/api/v1/locate": (POINT, True),
    "/api/v1/identify": ({**POINT, "layers": HIDDEN_LAYERS, "tolerance_px": 20}, True),
    "/api/v1/geocode": ({"q": SECRET_CODE}, True),
    "/api/v1/geocode/suggest": ({"q": SECRET_CODE}, False),
    "/api/v1/reverse": (POINT, True),
    "/nominatim/search": ({"q": SECRET_CODE}, True),
    "/nominatim/search.php": ({"q": SECRET_CODE}, True),
    "/nominatim/reverse": (POINT, False),
    "/nominatim/reverse.php": (POINT, False),
    "/nominatim/status": ({}, False),
    "/api/v1/stats/census": ({"area": "990100"}, False),
}
ECHOES = ("query", "normalized", "tokens")  # the caller's own text, repeated back


@pytest.fixture
def secrets(streets) -> None:
    inside = square(X0 + 0.2 * SIDE, Y0 + 0.2 * SIDE, 0.6 * SIDE)  # well inside street A
    ResponsibilityGrid.objects.create(
        code="RG-SECRET-A", name="密责任网格", street=streets["A"], geom=inside
    )
    TimingZone.objects.create(name="密计时区", kind="core", geom=inside)
    ControlledArea.objects.create(name="密管控区", reason="密管控原因", geom=inside)
    Component.objects.create(
        code=SECRET_CODE,
        category=Category.objects.get(kind="component", code="0101"),
        geom=f"SRID=4326;POINT({POINT['lon']} {POINT['lat']})",
    )


def secrets_in(response) -> list[str]:
    """Gives the markers of non-public rows in an answer (leaving out echoes of the query)."""
    try:
        body = response.json()
    except ValueError:
        body = response.content.decode(errors="replace")
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ECHOES}
    text = json.dumps(body, ensure_ascii=False)
    return [marker for marker in SECRETS if marker in text]


def test_public_routes_show_no_private_rows_to_anonymous_or_other_streets(
    client, secrets, sysadmin, inspector_b
):
    scoped = [p for p, c in routes() if is_public(c) and p.startswith(SCOPED_PREFIXES)]
    assert "/api/v1/locate" in scoped and "/nominatim/search" in scoped
    problems = [f"{p}: a public route with no probe in PROBES" for p in scoped if p not in PROBES]
    admin, elsewhere = SignedInClient(sysadmin.user), SignedInClient(inspector_b.user)
    for path, (query, admin_sees) in PROBES.items():
        for who, caller in (("anonymous", client), ("inspector of street B", elsewhere)):
            response = caller.get(path, query)
            if response.status_code >= 500:
                problems.append(f"GET {path}: {who} got {response.status_code}")
            elif leaked := secrets_in(response):
                problems.append(f"GET {path}: {who} got {leaked}")
        if admin_sees and not secrets_in(admin.get(path, query)):
            problems.append(f"GET {path}: the probe shows nothing even to a system admin")
    assert not problems, "\n".join(problems)


def test_census_counts_no_private_rows_for_anonymous_callers(client, secrets, sysadmin):
    census = client.get("/api/v1/stats/census", {"area": "990100"}).json()
    assert census["components"] is None and census["responsibility_grids"] is None
    full = SignedInClient(sysadmin.user).get("/api/v1/stats/census", {"area": "990100"}).json()
    assert full["components"]["count"] == 1 and full["responsibility_grids"]["count"] == 1
