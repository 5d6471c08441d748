"""The demo phones' clock-ins and clock-outs (考勤打卡) for the simulator (`tracking.simulator`).

Once a minute each simulated inspector reads their own attendance over HTTP
(``GET /api/v1/tracking/attendance`` for yesterday and today, so a night shift is seen through)
and clocks what a person would (``POST /api/v1/tracking/clock`` with a small photo, from where
the phone is): in once the duty has begun, out once it ends. Each duty has a plan drawn from a
generator seeded by the seed, the inspector and the duty, so a run is repeatable: mostly on
time, now and then late (迟到), leaving early (早退) or forgetting to clock out (未签退), so the
monitor's card and the anomalies have something to show.

`clocks_due` (pure: no database, no HTTP, no clock) decides; `PhoneClocks` asks and posts.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
from dataclasses import dataclass

from django.utils import timezone

log = logging.getLogger(__name__)

CHECK_S = 60.0
LATE_SHARE = 0.15
EARLY_SHARE = 0.10
FORGET_SHARE = 0.05
OUT_WINDOW = dt.timedelta(hours=2)  # as TRACKING_CLOCK_WINDOW_S: a later clock-out is no duty's


@dataclass(frozen=True)
class Plan:
    """When a simulated person clocks for one duty: seconds after its start for the clock-in,
    seconds after its end for the clock-out (negative: early; None: forgotten)."""

    in_after_s: float
    out_after_s: float | None


def plan_for(seed: int, username: str, date: str, shift: int) -> Plan:
    """Gives the plan of one duty, the same for the same seed, person and duty."""
    rng = random.Random(f"{seed}:{username}:{date}:{shift}")
    late = rng.random() < LATE_SHARE
    in_after = rng.uniform(360, 1500) if late else rng.uniform(0, 240)
    draw = rng.random()
    if draw < FORGET_SHARE:
        out_after = None
    elif draw < FORGET_SHARE + EARLY_SHARE:
        out_after = -rng.uniform(600, 1800)
    else:
        out_after = rng.uniform(0, 300)
    return Plan(in_after, out_after)


def clocks_due(duty: dict, plan: Plan, now: dt.datetime) -> str | None:
    """Gives the clock (``in`` or ``out``) a person owes for `duty` (an item of the attendance
    answer) at `now` by `plan`, or None."""
    start = dt.datetime.fromisoformat(duty["start"])
    end = dt.datetime.fromisoformat(duty["end"])
    if duty["clock_in"] is None:
        clock_in_at = start + dt.timedelta(seconds=plan.in_after_s)
        return "in" if clock_in_at <= now < end else None
    if duty["clock_out"] is None and plan.out_after_s is not None:
        clock_out_at = end + dt.timedelta(seconds=plan.out_after_s)
        return "out" if clock_out_at <= now < end + OUT_WINDOW else None
    return None


def photo_bytes() -> bytes:
    """A small JPEG (the person's selfie, in the demo a grey square)."""
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (64, 64), (180, 190, 200)).save(data, "JPEG", quality=70)
    return data.getvalue()


class PhoneClocks:
    """Reads each simulated inspector's attendance once a minute and clocks what is due."""

    def __init__(self, poster, seed: int):
        self.poster = poster
        self.seed = seed
        self.checked: dict[str, dt.datetime] = {}
        self.photo = photo_bytes()

    def _get(self, username: str, path: str) -> dict:
        auth = {"Authorization": f"Bearer {self.poster._token(username)}"}
        answer = self.poster.http.get(
            self.poster.base + path, headers=auth, timeout=self.poster.timeout
        )
        answer.raise_for_status()
        return answer.json()

    def _clock(self, username: str, kind: str, fix: dict) -> None:
        auth = {"Authorization": f"Bearer {self.poster._token(username)}"}
        form = {"kind": kind, "lon": fix["lon"], "lat": fix["lat"], "crs": fix.get("crs", "")}
        if fix.get("accuracy") is not None:
            form["accuracy"] = fix["accuracy"]
        answer = self.poster.http.post(
            self.poster.base + "/api/v1/tracking/clock",
            data=form,
            files={"photo": ("clock.jpg", self.photo, "image/jpeg")},
            headers=auth,
            timeout=self.poster.timeout,
        )
        answer.raise_for_status()

    def tick(self, username: str, fix: dict, now: dt.datetime) -> list[str]:
        """Clocks for `username` at the phone's `fix` what is due at `now` (at most once a
        minute a person); gives the clocks made."""
        last = self.checked.get(username)
        if not username or (last is not None and (now - last).total_seconds() < CHECK_S):
            return []
        self.checked[username] = now
        today = timezone.localdate(now)
        days = f"from={today - dt.timedelta(days=1)}&to={today}"
        made = []
        for duty in self._get(username, "/api/v1/tracking/attendance?" + days)["duties"]:
            plan = plan_for(self.seed, username, duty["date"], duty["shift"]["id"])
            kind = clocks_due(duty, plan, now)
            if kind is not None:
                self._clock(username, kind, fix)
                made.append(kind)
        return made
