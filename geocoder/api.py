"""HTTP endpoints of the geocoder: forward, suggest, reverse, batch. Thin: parse, call, render."""

from __future__ import annotations

import json
import re

from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import Scope, scope_for
from spatial import crs as crs_module
from spatial.locate import locate
from core import params
from core.errors import ErrorSerializer
from core.access import public
from core.errors import BadInput

from .dictionary import gazetteer
from .match import Candidate, geocode
from .normalize import clean
from .reverse import reverse
from .serializers import (
    GeocodeResponseSerializer,
    JobSerializer,
    ReverseResponseSerializer,
    SuggestResponseSerializer,
)

MAX_Q_CHARS = 500
MAX_LIMIT = 20
_LON, _LAT = r"-?\d+(\.\d+)?", r"-?(90(\.0+)?|[1-8]?\d(\.\d+)?)"
WITHIN_SCHEMA = {
    "type": "string",
    "pattern": rf"^(\d{{6}}|\d{{9}}|\d{{12}}|{_LON},{_LAT},{_LON},{_LAT})$",
    "description": "min ≤ max on both axes",
}
CRS_SCHEMA = crs_module.CRS_PARAMETER_SCHEMA


Q_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_Q_CHARS}


def within_filter(query: params.Query):
    """Gives a predicate on (lon, lat) for `within`: an admin area code or a bbox
    `minlon,minlat,maxlon,maxlat`; `BadInput` for anything else."""
    raw = params.text(query, "within", None)
    if not raw:
        return None
    if "," in raw:
        x0, y0, x1, y1 = params.bbox(query, "within")
        return lambda lon, lat: x0 <= lon <= x1 and y0 <= lat <= y1
    if raw.isdigit() and len(raw) in (6, 9, 12):
        with connection.cursor() as cur:
            cur.execute("SELECT id FROM spatial_adminarea WHERE code = %s", [raw])
            row = cur.fetchone()
        if row is None:
            return lambda lon, lat: False  # nothing lies inside an area that does not exist
        area_id = row[0]

        def inside(lon: float, lat: float) -> bool:
            # Served by the primary key; one point-in-polygon test per candidate.
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
                    " FROM spatial_adminarea WHERE id = %s",
                    [lon, lat, area_id],
                )
                return bool(cur.fetchone()[0])

        return inside
    raise BadInput(
        "within must be an admin area code or minlon,minlat,maxlon,maxlat", field="within"
    )


# Served by the primary keys. Table names are constants chosen by match level, never input.
AREA_GEOMETRY_SQL = {
    "area": "SELECT ST_AsGeoJSON(geom, 7) FROM spatial_adminarea WHERE id = %s",
    "grid": "SELECT ST_AsGeoJSON(geom, 7) FROM spatial_unitgrid WHERE id = %s",
}


def area_geometry(c: Candidate) -> dict | None:
    """Gives the polygon (GeoJSON) of an area or grid candidate, else None."""
    sql = AREA_GEOMETRY_SQL.get(c.match_level)
    if sql is None or c.ref is None:
        return None
    with connection.cursor() as cur:
        cur.execute(sql, [c.ref[1]])
        row = cur.fetchone()
    return json.loads(row[0]) if row and row[0] else None


def candidate_json(c: Candidate, with_placement: bool = True, scope: Scope | None = None) -> dict:
    """Gives one candidate as JSON-ready data, with the `locate` placement of its point (the
    parts `scope` sees)."""
    return {
        "address": c.address,
        "match_level": c.match_level,
        "combination": c.combination,
        "score": c.score,
        "confidence": c.confidence,
        "exact": c.exact,
        "lon": round(c.lon, 7),
        "lat": round(c.lat, 7),
        "qualifier": c.qualifier,
        "parts": c.parts,
        "geometry": area_geometry(c),
        "placement": locate(c.lon, c.lat, scope=scope).as_dict() if with_placement else None,
    }


@public
class GeocodeView(APIView):
    """Forward geocoding (地址匹配): free text → ranked candidates."""

    @extend_schema(
        operation_id="geocode",
        summary="Geocode an address (地理编码): the spec's 18 combinations, noise-tolerant",
        description=(
            "Addresses are public. Unit grid and component codes and admin areas come from "
            "registry layers: anonymous callers find them only in public layers (components "
            "are not), a signed-in person in the layers their positions grant, inside their "
            "areas. Each placement holds only the parts the caller sees at that point."
        ),
        parameters=[
            OpenApiParameter(
                "q", Q_SCHEMA, required=True, description="free text, e.g. 学院路18号附近"
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                required=False,
                description="default 5",
            ),
            OpenApiParameter(
                "within",
                WITHIN_SCHEMA,
                required=False,
                description="admin area code (6/9/12 digits) or bbox minlon,minlat,maxlon,maxlat",
            ),
        ],
        responses={200: GeocodeResponseSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        q = params.text(query, "q", max_length=MAX_Q_CHARS)
        limit = params.integer(query, "limit", 5, low=1, high=MAX_LIMIT)
        inside = within_filter(query)
        scope = scope_for(request)
        parsed, cands = geocode(q, limit=MAX_LIMIT if inside else limit, scope=scope)
        if inside is not None:
            cands = [c for c in cands if inside(c.lon, c.lat)][:limit]
        return Response(
            {
                "query": q,
                "normalized": parsed.text,
                "tokens": [
                    {"kind": t.kind, "text": t.text, "kinds": sorted({e.kind for e in t.entries})}
                    for t in parsed.tokens
                ],
                "results": [candidate_json(c, scope=scope) for c in cands],
            }
        )


@public
class SuggestView(APIView):
    """Prefix suggestions for the dispatcher's address box."""

    @extend_schema(
        operation_id="geocode_suggest",
        summary="Suggest names (地址联想) starting with the typed text",
        parameters=[
            OpenApiParameter("q", Q_SCHEMA, required=True),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                required=False,
                description="default 10",
            ),
        ],
        responses={200: SuggestResponseSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        q = params.text(request.query_params, "q", max_length=MAX_Q_CHARS)
        limit = params.integer(request.query_params, "limit", 10, low=1, high=MAX_LIMIT)
        return Response({"query": q, "suggestions": suggest(q, limit)})


def suggest(q: str, limit: int) -> list[dict]:
    """Gives up to `limit` names starting with the cleaned `q` (in-memory sorted index), and
    for a road name followed by digits, that road's doors whose number starts with them."""
    g = gazetteer()
    text = clean(q)
    out: list[dict] = []
    if not text:
        return out
    seen: set[str] = set()
    m = re.match(r"^(.*?)(\d+)$", text)
    if m and m.group(1) in g.names:
        for entry in g.names[m.group(1)]:
            if entry.kind != "road":
                continue
            for door in g.roads[entry.id].doors:
                label = f"{entry.name}{door.suffix}{door.number}号"
                if str(door.number).startswith(m.group(2)) and label not in seen:
                    seen.add(label)
                    out.append({"text": label, "kind": "door", "lon": door.lon, "lat": door.lat})
                    if len(out) >= limit:
                        return out
    for key, entry in g.prefixed(text, limit * 3):
        label = entry.name
        if label in seen:
            continue
        seen.add(label)
        out.append({"text": label, "kind": entry.kind, "lon": entry.lon, "lat": entry.lat})
        if len(out) >= limit:
            break
    return out


@public
class ReverseView(APIView):
    """Reverse geocoding (逆地理编码): a point → its standard address."""

    @extend_schema(
        operation_id="reverse_geocode",
        summary="Standard address of a point: nearest door on the road side, else road, place, area",
        description=(
            "Road segments and admin areas are read only where the caller sees their layers; "
            "the placement holds only the parts the caller sees at the point."
        ),
        parameters=[
            OpenApiParameter("lon", float, required=True, description="longitude, or x/easting"),
            OpenApiParameter("lat", float, required=True, description="latitude, or y/northing"),
            OpenApiParameter(
                "crs", CRS_SCHEMA, required=False, description=f"one of {crs_module.ACCEPTED}"
            ),
        ],
        responses={200: ReverseResponseSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        given = params.point(request.query_params)
        lon, lat = crs_module.to_wgs84(given.x, given.y, given.crs)
        return Response(reverse_json(lon, lat, scope_for(request)))


def reverse_json(lon: float, lat: float, scope: Scope | None = None) -> dict:
    """Gives the reverse answer for a WGS84 point as JSON-ready data (what `scope` sees)."""
    found = reverse(lon, lat, scope=scope)
    return {
        "address": found.address,
        "match_level": found.match_level,
        "parts": found.parts,
        "lon": None if found.lon is None else round(found.lon, 7),
        "lat": None if found.lat is None else round(found.lat, 7),
        "distance_m": found.distance_m,
        "placement": locate(lon, lat, scope=scope).as_dict(),
    }


def job_json(job) -> dict:
    """Gives a batch job's state and progress as JSON-ready data."""
    done = job.state == job.State.SUCCEEDED and bool(job.result_path)
    return {
        "id": str(job.pk),
        "state": job.state,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "report": job.report,
        "errors": job.errors,
        "result_url": f"/api/v1/geocode/batch/{job.pk}/result" if done else None,
    }


def _batch_job(request: Request, job_id):
    from accounts.permissions import GEOCODE_BATCH
    from accounts.scoping import scope_for
    from core.errors import NotFound
    from core.jobs import get_job

    from .batch import JOB_KIND

    scope = scope_for(request)
    scope.require(GEOCODE_BATCH)
    job = get_job(job_id, scope)
    if job.kind != JOB_KIND:
        raise NotFound("no such batch job")
    return job


class BatchView(APIView):
    """Batch geocoding: upload a CSV, get a job."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="geocode_batch",
        summary="Geocode a CSV of addresses (批量地理编码) as a background job",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "CSV with a column address / 地址",
                    }
                },
                "required": ["file"],
            }
        },
        responses={
            202: JobSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            413: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        from accounts.scoping import scope_for

        from .actions import do_geocode_batch

        scope = scope_for(request)
        do_geocode_batch.require(scope)  # before the body is read: anonymous is a 401, not a 415
        job = do_geocode_batch(scope, request.FILES.get("file"))
        return Response(job_json(job), status=202)


class BatchJobView(APIView):
    """A batch job's progress."""

    @extend_schema(
        operation_id="geocode_batch_job",
        summary="Progress of a batch job",
        responses={200: JobSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, job) -> Response:
        return Response(job_json(_batch_job(request, job)))


class BatchResultView(APIView):
    """A finished batch job's result CSV."""

    @extend_schema(
        operation_id="geocode_batch_result",
        summary="Result CSV: every input row with match level, score, coordinates or the reason",
        responses={
            (200, "text/csv"): {"type": "string"},
            401: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def get(self, request: Request, job):
        from django.http import FileResponse

        from core.errors import Conflict

        found = _batch_job(request, job)
        if found.state != found.State.SUCCEEDED or not found.result_path:
            raise Conflict(f"the job is {found.state}, no result yet")
        return FileResponse(
            open(found.result_path, "rb"),
            content_type="text/csv",
            as_attachment=True,
            filename=f"geocode-{found.pk}.csv",
        )
