"""The live tracking stream over SSE: positions reach the callers who see the tracker only."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient, Client
from django.utils import timezone

from accounts.demo import build_demo_organization
from accounts.models import Person
from spatial.models import AdminArea
from tracking.demo import build_demo_trackers
from tracking.models import Tracker

from .conftest import fixes


async def _signed_in(username: str) -> AsyncClient:
    client = AsyncClient()
    user = await sync_to_async(lambda: Person.objects.get(user__username=username).user)()
    await client.aforce_login(user)
    return client


async def _next_event(chunks, seconds: float) -> dict:
    while True:
        chunk = await asyncio.wait_for(anext(chunks), seconds)
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if "\nevent: position" in f"\n{text}":
            data = next(line for line in text.splitlines() if line.startswith("data: "))
            return json.loads(data[len("data: ") :])


@pytest.mark.django_db(transaction=True)
def test_positions_reach_the_shift_leader_and_the_inspector_but_not_another_street(city):
    build_demo_organization()
    build_demo_trackers()
    a, b = AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2]
    tracker = Tracker.objects.get(device_id=f"PHONE-{a.code}")

    async def scenario():
        streams = []
        for username in ("shiftleader", f"inspector-{a.code}", f"inspector-{b.code}"):
            client = await _signed_in(username)
            response = await client.get("/api/v1/tracking/stream")
            assert response.status_code == 200
            assert response["Content-Type"] == "text/event-stream"
            chunks = aiter(response.streaming_content)
            assert "retry:" in (await anext(chunks)).decode()
            streams.append(chunks)

        def post():
            client = Client()
            client.force_login(Person.objects.get(user__username=f"inspector-{a.code}").user)
            here = a.geom.point_on_surface
            t = timezone.now() - dt.timedelta(seconds=30)
            batch = fixes([(here.x, here.y)], t)
            answer = client.post("/api/v1/tracking/fixes", {"fixes": batch}, "application/json")
            assert answer.json()["accepted"] == 1, answer.content

        await sync_to_async(post, thread_sensitive=False)()
        for chunks in streams[:2]:
            event = await _next_event(chunks, 5)
            assert event["tracker"] == tracker.pk and event["type"] == "position"
        with pytest.raises(TimeoutError):
            await _next_event(streams[2], 2)
        for chunks in streams:
            await chunks.aclose()

    try:
        asyncio.run(scenario())
    finally:  # the flush after a transactional test empties managed tables only
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE tracking_fix")
