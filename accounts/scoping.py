"""What a caller may see and do: the one scoping mechanism (数据权限) every query uses.

``scope_for(request)`` gives a `Scope` (``scope_for_user(user)`` outside a request, and
``system_scope(name)`` for beat, commands and other work no person starts). It reaches queries
in three ways, all over the same areas:

- raw SQL on a registry layer: ``scope.layer_condition(layer, geom, srid)`` gives an
  `AreaCondition` (SQL + params, ``.unrestricted``, ``.empty``) for the WHERE clause;
  ``scope.layer_condition_by_key(key, geom, srid)`` is the same for hot one-query paths (locate,
  reverse) that name the layer by key and let the query read its flags;
- raw SQL on any table with a geometry: ``scope.area_condition(geom, srid)``, the same without
  the layer's public flag and grants;
- ORM tables: ``Model.objects.visible_to(scope)`` (`ScopedQuerySet`).

The condition is ``TRUE`` (unrestricted) for public layers, system admins and superusers;
``ST_Intersects(geom, <area>)`` for a person whose positions grant the layer, where the area is
the person's area union, read by id from ``accounts_person`` in the same query (an InitPlan
evaluated once, so the layer's GiST index still serves the condition); ``FALSE`` (empty) for
everyone else.

`Scope.key` is the cache-key fragment: two callers with the same key see exactly the same rows.
Writes check permissions with ``scope.require(permissions.LAYERS_IMPORT)`` (401 anonymous,
403 otherwise).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import connection, models
from django.db.models import Subquery
from psycopg2 import sql

from accounts import authcache
from accounts import permissions as perms
from accounts.authentication import _django_request, request_user
from core.errors import Forbidden, NotFound, Unauthorized
from core.sqlparts import Part, bind

WEB_MERCATOR = 3857
_AREA_COLUMN = {4326: "area_geom", WEB_MERCATOR: "area_geom_mercator"}
TRUE = sql.SQL("TRUE")
FALSE = sql.SQL("FALSE")


@dataclass(frozen=True)
class AreaCondition:
    """An SQL boolean condition with its own parameters, restricting rows to a caller's areas.

    ``unrestricted`` means the condition is ``TRUE`` (callers may skip it and share caches with
    everyone who sees everything), ``empty`` that it is ``FALSE`` (callers may answer at once).
    """

    sql: sql.Composable
    params: tuple = ()
    unrestricted: bool = False
    empty: bool = False
    # The caller's area geometry (a `core.sqlparts.Part`, one value) when the condition is
    # exactly "intersects the caller's area": lets a query use precomputed per-cell counts for
    # cells that lie inside the area (tiles.sql.cell_clusters_query) and test rows only in cells
    # across its border.
    area: Part | None = None

    def __iter__(self):
        """Unpacks as ``(sql, params)`` for ``cursor.execute``-style callers."""
        return iter((self.sql, list(self.params)))

    def named(self, prefix: str, context) -> tuple[str, dict]:
        """Gives the condition as SQL text whose placeholders are named ``%(prefix_0)s``, …,
        with their values, for queries written with named parameters. `context` is a
        connection or cursor (to quote identifiers)."""
        pieces = self.sql.as_string(context).split("%s")
        if len(pieces) != len(self.params) + 1:
            raise ValueError("the condition's placeholders and parameters differ in number")
        names = [f"{prefix}_{n}" for n in range(len(self.params))]
        text = pieces[0] + "".join(f"%({name})s{piece}" for name, piece in zip(names, pieces[1:]))
        return text, dict(zip(names, self.params))


UNRESTRICTED = AreaCondition(TRUE, (), unrestricted=True)
EMPTY = AreaCondition(FALSE, (), empty=True)
# A registry layer's flags read inside a query (see `Scope.layer_condition_by_key`).
_LAYER_IS_PUBLIC = sql.SQL(
    "coalesce((SELECT l.public FROM spatial_layer l WHERE l.key = %s), false)"
)
_LAYER_IS_GRANTED = sql.SQL(
    "(SELECT l.id FROM spatial_layer l WHERE l.key = %s) = ANY(%s::bigint[])"
)


@dataclass(frozen=True)
class Scope:
    """A caller's scope: identity, permissions, layer grants and area."""

    user: object | None = None
    is_anonymous: bool = True
    sees_everything: bool = False
    permissions: frozenset[str] = frozenset()
    all_layers: bool = False
    layer_ids: frozenset[int] = frozenset()
    person_id: int | None = None
    area_digest: str = ""
    key: str = "anon"
    position_names: tuple[str, ...] = field(default=())
    department_id: int | None = None
    system_name: str = ""

    @property
    def actor_name(self) -> str:
        """Gives who acts, for logs: the username, ``system:<name>`` or ``anonymous``."""
        if self.system_name:
            return f"system:{self.system_name}"
        if self.user is not None:
            return self.user.get_username()
        return "anonymous"

    @property
    def has_area(self) -> bool:
        return self.person_id is not None and bool(self.area_digest)

    def can_read_layer(self, layer) -> bool:
        """Whether the caller may read `layer` at all (inside its area, for non-public ones)."""
        if layer.public or self.sees_everything:
            return True
        if self.is_anonymous:
            return False
        return self.all_layers or layer.pk in self.layer_ids

    def area_condition(
        self,
        geom: sql.Composable,
        srid: int = 4326,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> AreaCondition:
        """Gives the condition restricting rows whose geometry expression is `geom` (in EPSG
        `srid`: 4326 or 3857) to the caller's areas: unrestricted for system admins, empty for
        anonymous callers and people without an area. `bbox` as in `layer_condition`."""
        if srid not in _AREA_COLUMN:
            raise ValueError(f"area_condition supports SRID 4326 or 3857, not {srid}")
        if self.sees_everything:
            return UNRESTRICTED
        if self.is_anonymous or not self.has_area:
            return EMPTY
        area = sql.Identifier(_AREA_COLUMN[srid])
        if bbox is not None:
            relation = self._box_relation(area, srid, bbox)
            if relation == "inside":
                return UNRESTRICTED
            if relation == "outside":
                return EMPTY
        # Inside means sharing interior points: a line or polygon that only touches the area's
        # border (a grid of the next street) is not inside. ST_Intersects finds the candidates
        # with the GiST index; ST_Touches, true when they meet on borders only, runs on the
        # candidates that are not points (a point on the border belongs to both sides: testing
        # it cost 10x on a street's 40k components, 750 ms against 66 ms at scale 20).
        condition = sql.SQL(
            "(ST_Intersects({geom}, (SELECT {area} FROM accounts_person WHERE id = %s)) "
            "AND (ST_Dimension({geom}) = 0 "
            "OR NOT ST_Touches({geom}, (SELECT {area} FROM accounts_person WHERE id = %s))))"
        ).format(geom=geom, area=area)
        return AreaCondition(
            condition,
            (self.person_id, self.person_id),
            area=bind(
                "(SELECT {area} FROM accounts_person WHERE id = {person})",
                area=area,
                person=self.person_id,
            ),
        )

    def layer_condition(
        self,
        layer,
        geom: sql.Composable,
        srid: int = 4326,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> AreaCondition:
        """Gives the condition restricting `layer`'s rows (whose geometry expression is `geom`,
        in EPSG `srid`: 4326 or 3857) to what the caller sees.

        `bbox` (minx, miny, maxx, maxy in `srid`), when the query is bounded by a box such as a
        tile envelope, lets one quick query decide the box as a whole: ``TRUE`` when the box lies
        inside the caller's area (the query then plans exactly as an admin's), ``FALSE`` when it
        misses the area, the per-row condition otherwise. Pass it only when the query keeps just
        the rows that intersect the box (ST_Intersects with the box, points with &&, or tiles
        clipped by ST_AsMVTGeom).
        """
        if srid not in _AREA_COLUMN:
            raise ValueError(f"layer_condition supports SRID 4326 or 3857, not {srid}")
        if layer.public or self.sees_everything:
            return UNRESTRICTED
        if not self.can_read_layer(layer):
            return EMPTY
        return self.area_condition(geom, srid, bbox)

    def layer_condition_by_key(
        self, key: str, geom: sql.Composable, srid: int = 4326
    ) -> AreaCondition:
        """Gives `layer_condition` for the registry layer named `key` without loading the layer
        first: the query itself reads the layer's public flag (and, for a caller with grants of
        single layers, its id) from ``spatial_layer``, in InitPlans served by the unique index on
        ``spatial_layer.key`` that run once per query. For hot one-query paths (locate, reverse,
        lookups by code) that must not add a round trip. A key with no layer reads as a
        non-public layer that no single-layer grant names (positions granting every layer
        still see its rows inside their areas)."""
        if srid not in _AREA_COLUMN:
            raise ValueError(f"layer_condition_by_key supports SRID 4326 or 3857, not {srid}")
        if self.sees_everything:
            return UNRESTRICTED
        public = AreaCondition(_LAYER_IS_PUBLIC, (key,))
        if self.is_anonymous or not self.has_area or not (self.all_layers or self.layer_ids):
            return public
        area = self.area_condition(geom, srid)
        granted = area
        if not self.all_layers:
            granted = AreaCondition(
                sql.SQL("({} AND {})").format(_LAYER_IS_GRANTED, area.sql),
                (key, sorted(self.layer_ids), *area.params),
            )
        return AreaCondition(
            sql.SQL("({} OR {})").format(public.sql, granted.sql),
            (*public.params, *granted.params),
        )

    def _box_relation(self, area: sql.Identifier, srid: int, bbox) -> str:
        """Gives "inside", "outside" or "across": how a box lies against the caller's area."""
        query = sql.SQL(
            "SELECT ST_Covers({area}, b), ST_Intersects({area}, b) FROM accounts_person, "
            "ST_MakeEnvelope(%s, %s, %s, %s, {srid}) b WHERE id = %s"
        ).format(area=area, srid=sql.Literal(srid))
        with connection.cursor() as cursor:
            cursor.execute(
                query.as_string(cursor.connection), [*(float(v) for v in bbox), self.person_id]
            )
            row = cursor.fetchone()
        if row is None or not row[1]:
            return "outside"
        return "inside" if row[0] else "across"

    def layer_key(self, layer) -> str:
        """Gives the cache-key fragment for one layer: "public" for public layers (every caller
        sees the same rows), "all" for system admins, "none" when the caller sees no row, else
        the caller's `key`. Finer than `key`, so caches of public layers are shared by all."""
        if layer.public:
            return "public"
        if self.sees_everything:
            return "all"
        if not self.can_read_layer(layer) or not self.has_area:
            return "none"
        return self.key

    def has_perm(self, permission: str) -> bool:
        """Whether the caller holds `permission` (system admins hold every permission)."""
        if self.is_anonymous:
            return False
        return self.sees_everything or permission in self.permissions

    def require(self, permission: str) -> None:
        """Raises `Unauthorized` for anonymous callers and `Forbidden` for callers without
        `permission`."""
        if self.is_anonymous:
            raise Unauthorized("sign in first")
        if not self.has_perm(permission):
            label = perms.ALL_PERMISSIONS.get(permission, permission)
            raise Forbidden(f"your positions do not grant {permission} ({label})")

    def require_signed_in(self) -> None:
        """Raises `Unauthorized` for anonymous callers."""
        if self.is_anonymous:
            raise Unauthorized("sign in first")


ANONYMOUS = Scope()


def system_scope(name: str) -> Scope:
    """Gives the scope of a named system actor (``beat``, ``command:load_layer``…): work no
    person started, allowed everything and logged under ``system:<name>``."""
    return Scope(
        is_anonymous=False,
        sees_everything=True,
        permissions=frozenset(perms.ALL_PERMISSIONS),
        all_layers=True,
        key="all",
        system_name=name,
    )


def command_scope(command: str, username: str = "") -> Scope:
    """Gives the scope a management command acts in: the named person's when `username` is
    given (`NotFound` if there is none), else the system actor ``command:<command>``."""
    if not username:
        return system_scope(f"command:{command}")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"no active user {username!r}", field="user")
    return scope_for_user(user)


class ScopedQuerySet(models.QuerySet):
    """A queryset that keeps only the rows a scope may see: ``Model.objects.visible_to(scope)``.

    The ORM twin of `Scope.area_condition` over the same areas. The model names its geometry
    field in ``scope_geometry_field`` (default ``geom``). Pass the registry `layer` the model is
    served as, when there is one, to apply its public flag and grants as `layer_condition` does.
    """

    def visible_to(self, scope: Scope, layer=None) -> models.QuerySet:
        if layer is not None and (layer.public or scope.sees_everything):
            return self
        if layer is not None and not scope.can_read_layer(layer):
            return self.none()
        if scope.sees_everything:
            return self
        if scope.is_anonymous or not scope.has_area:
            return self.none()
        from accounts.models import Person

        geometry = getattr(self.model, "scope_geometry_field", "geom")
        area = Person.objects.filter(pk=scope.person_id).values("area_geom")[:1]
        inside = models.Q(**{f"{geometry}__intersects": Subquery(area)})
        touching = models.Q(**{f"{geometry}__touches": Subquery(area)})
        if getattr(self.model._meta.get_field(geometry), "geom_type", "") == "POINT":
            return self.filter(inside)  # a point on the border belongs to both sides
        return self.filter(inside & ~touching)


# One round trip for a person's scope: its area digest, positions, permissions and layer grants.
PERSON_SCOPE_SQL = """
SELECT p.id, p.area_digest,
  ARRAY(SELECT pos.name FROM accounts_person_positions pp
        JOIN accounts_position pos ON pos.id = pp.position_id
        WHERE pp.person_id = p.id ORDER BY pos.sort_order, pos.key),
  ARRAY(SELECT DISTINCT perm FROM accounts_person_positions pp
        JOIN accounts_position pos ON pos.id = pp.position_id
        CROSS JOIN LATERAL jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(pos.permissions) = 'array' THEN pos.permissions
                 ELSE '[]'::jsonb END) perm
        WHERE pp.person_id = p.id),
  EXISTS(SELECT 1 FROM accounts_person_positions pp
         JOIN accounts_position pos ON pos.id = pp.position_id
         WHERE pp.person_id = p.id AND pos.all_layers),
  ARRAY(SELECT DISTINCT pl.layer_id FROM accounts_person_positions pp
        JOIN accounts_position_layers pl ON pl.position_id = pp.position_id
        WHERE pp.person_id = p.id),
  p.department_id
FROM accounts_person p WHERE p.user_id = %s
"""


def scope_for_user(user) -> Scope:
    """Gives the scope of a Django user (anonymous scope for None or an anonymous user)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    # The person's row is kept by this process for a moment (accounts/authcache.py: dropped on
    # any write to people, positions, roles or users, else after CITYGRID_AUTH_CACHE_SECONDS).
    row = authcache.scopes.get(user.pk)
    if row is None:
        with connection.cursor() as cursor:
            cursor.execute(PERSON_SCOPE_SQL, [user.pk])
            row = cursor.fetchone() or ()
        authcache.scopes.put(user.pk, row)
    person_id, digest, names, permissions, all_layers, layer_ids, department_id = row or (
        None,
        "",
        [],
        [],
        False,
        [],
        None,
    )
    sees_everything = bool(user.is_superuser) or perms.SYSTEM_ADMIN in permissions
    if sees_everything:
        key = "all"
    else:
        grant = "*" if all_layers else ",".join(str(i) for i in sorted(layer_ids))
        key = "p" + hashlib.sha256(f"{digest}|{grant}".encode()).hexdigest()[:20]
    return Scope(
        user=user,
        is_anonymous=False,
        sees_everything=sees_everything,
        permissions=frozenset(perms.ALL_PERMISSIONS if sees_everything else permissions),
        all_layers=bool(all_layers) or sees_everything,
        layer_ids=frozenset(layer_ids),
        person_id=person_id,
        area_digest=digest or "",
        key=key,
        position_names=tuple(names),
        department_id=department_id,
    )


def scope_for(request) -> Scope:
    """Gives the caller's scope for a Django `HttpRequest` or a DRF `Request`.

    Authenticates ``Authorization: Bearer <token>`` itself (for plain Django views such as tiles
    and OGC), falling back to the session user. Raises `Unauthorized` for a bad bearer token.
    Cached on the request.
    """
    django_request = _django_request(request)
    cached = getattr(django_request, "_citygrid_scope", None)
    if cached is not None:
        return cached
    user = request.user if request is not django_request else request_user(django_request)
    if user is not None and not user.is_authenticated:
        user = None
    scope = scope_for_user(user)
    django_request._citygrid_scope = scope
    return scope
