"""The live case stream over SSE: a console hears of the cases it sees, and of no others."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client

from accounts.models import Person
from tests.cases.conftest import inside
from tests.cases.test_main_path import report


async def _signed_in(username: str) -> AsyncClient:
    client = AsyncClient()
    user = await sync_to_async(lambda: Person.objects.get(user__username=username).user)()
    await client.aforce_login(user)
    return client


async def _next_event(chunks, seconds: float) -> dict:
    """The next `event:` frame's data, skipping comments and keep-alives."""
    while True:
        chunk = await asyncio.wait_for(anext(chunks), seconds)
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if "\nevent: case" in f"\n{text}":
            data = next(line for line in text.splitlines() if line.startswith("data: "))
            return json.loads(data[len("data: ") :])


@pytest.mark.django_db(transaction=True)
def test_a_console_hears_of_its_cases_and_not_of_others(org, two_streets):
    street, other = two_streets

    async def scenario():
        acceptor = await _signed_in("acceptor")
        mine = await _signed_in(f"inspector-{street.code}")
        theirs = await _signed_in(f"inspector-{other.code}")
        streams = []
        for client in (acceptor, mine, theirs):
            response = await client.get("/api/v1/cases/stream")
            assert response.status_code == 200
            assert response["Content-Type"] == "text/event-stream"
            chunks = aiter(response.streaming_content)
            assert "retry:" in (await anext(chunks)).decode()  # subscribed
            streams.append(chunks)

        def file_report():
            client = Client()
            client.force_login(Person.objects.get(user__username=f"inspector-{street.code}").user)
            answer = report(client, *inside(street))
            assert answer.status_code == 201, answer.content
            return answer.json()

        made = await sync_to_async(file_report, thread_sensitive=False)()
        for chunks in streams[:2]:
            event = await _next_event(chunks, 5)
            assert event["case"] == made["id"] and event["to"] == "reported"
            assert "reporter" not in json.dumps(event)
        with pytest.raises(TimeoutError):
            await _next_event(streams[2], 2)  # another street's inspector hears nothing
        for chunks in streams:
            await chunks.aclose()

    asyncio.run(scenario())


@pytest.mark.django_db
def test_the_stream_refuses_anonymous_callers_and_the_wsgi_server(org):
    async def anonymous():
        return await AsyncClient().get("/api/v1/cases/stream")

    assert asyncio.run(anonymous()).status_code == 401
    client = Client()
    client.force_login(Person.objects.get(user__username="acceptor").user)
    answer = client.get("/api/v1/cases/stream")  # the WSGI test client: a sync worker
    assert answer.status_code == 421  # Misdirected Request
    assert "stream server" in answer.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_two_people_acting_at_once_one_wins_and_the_other_gets_409(org, two_streets):
    """Two acceptors press 受理 on the same case at the same moment, each in their own request
    and database connection: the row lock lets one through; the other sees the new version."""
    import threading

    from django.db import connection

    def signed_in(username: str) -> Client:
        client = Client()
        client.force_login(Person.objects.get(user__username=username).user)
        return client

    made = report(signed_in("acceptor"), *inside(two_streets[0]), source="inspector")
    assert made.status_code == 201
    case_id = made.json()["id"]
    clients = [signed_in("acceptor"), signed_in("shiftleader")]
    barrier, answers = threading.Barrier(2), {}

    def press(client: Client, who: int) -> None:
        barrier.wait()
        answers[who] = client.post(
            f"/api/v1/cases/{case_id}/actions/accept",
            {"version": 1},
            content_type="application/json",
        )
        connection.close()

    threads = [threading.Thread(target=press, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(a.status_code for a in answers.values())
    assert statuses == [200, 409], [a.content for a in answers.values()]
    loser = next(a for a in answers.values() if a.status_code == 409).json()
    assert loser["current"] == {"state": "to_register", "version": 2}
