"""Running demo plans through the actions: each step as its actor's scope with ``at=`` its time.

Plans run in report-time order, in one transaction per `BATCH` cases (so each action's own
transaction is a savepoint, not a commit). An action costs 4–6 ms here (half of it the
visibility check's ORM), ~26,000 of them for 3,000 cases: `run_plans` splits the plans over
worker processes by local report day when it may (73 s with two, 107 s with one, on 2 cores). Each day stays in one
process, in report-time order, so the task numbers (a per-day sequence) are the same as in one
process, and no two processes wait on the same day's number counter.
"""

from __future__ import annotations

import os
import pickle
import traceback
from itertools import groupby

from django.db import connection, connections, transaction
from django.utils import timezone

from cases import notifications
from cases.actions import TRANSITIONS, do_report_case, store_media
from cases.models import Case, CaseMedia
from cases.self_handling import do_report_self_handled
from core import events
from core.errors import ApiError

from .people import DemoPeople
from .plan import Plan

BATCH = 50
PARALLEL_FROM = 200  # fewer plans run in one process
_shares: list[list[Plan]] = []  # what each forked worker runs (set before forking)


def demo_photo(seed: int, name: str):
    """A small JPEG of one muted colour (the demo's scene photos: self-handled reports and
    supplementary collections need one)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    colour = (90 + seed * 37 % 120, 100 + seed * 53 % 100, 80 + seed * 71 % 110)
    out = io.BytesIO()
    Image.new("RGB", (160, 120), colour).save(out, "JPEG", quality=70)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def run_plan(plan: Plan, people: DemoPeople) -> Case:
    """Takes the plan's steps, each as its actor at its time; gives the case. A self-handled
    report comes with its photos before and after, a supplement answer after its photo."""
    report, *steps = plan.steps
    scope = people.scope(report.actor)
    if plan.self_handled:
        seed = int(report.at.timestamp())
        before = [(demo_photo(seed, "before.jpg"), "image/jpeg")]
        after = [(demo_photo(seed + 1, "after.jpg"), "image/jpeg")]
        case = do_report_self_handled(scope, plan.new, before=before, after=after, at=report.at)
    else:
        case = do_report_case(scope, plan.new, at=report.at)
    for step in steps:
        actor = people.handler(case.department_id) if step.actor == "handler" else step.actor
        if step.action == "supplement":
            photo = demo_photo(int(step.at.timestamp()), "supplement.jpg")
            store_media(
                people.scope(actor), case, CaseMedia.Stage.SUPPLEMENT, photo, "image/jpeg", step.at
            )
        case = TRANSITIONS[step.action](
            people.scope(actor), case.pk, version=case.version, at=step.at, **step.args
        )
    return case


def run_share(plans: list[Plan], people: DemoPeople) -> tuple[list[int], list[str]]:
    """Runs plans in batches; gives the ids of the cases made and the refusals that stopped a
    case early (an `ApiError` ends that case, not the run)."""
    ids, errors = [], []
    for first in range(0, len(plans), BATCH):
        with transaction.atomic():
            for plan in plans[first : first + BATCH]:
                try:
                    ids.append(run_plan(plan, people).pk)
                except ApiError as exc:
                    errors.append(f"{plan.new.category.code} {plan.steps[0].at}: {exc.message}")
    return ids, errors


def run_plans(plans: list[Plan], people: DemoPeople, workers: int) -> tuple[list[int], list[str]]:
    """Runs the plans in up to `workers` forked processes (one inside a transaction, where
    other processes would not see its rows, or for few plans)."""
    if workers <= 1 or connection.in_atomic_block or len(plans) < PARALLEL_FROM:
        return run_share(plans, people)
    _shares[:] = _by_day(plans, workers)
    connections.close_all()  # each process opens its own
    # Plain os.fork, not multiprocessing: multiprocessing runs its after-fork hooks in the
    # child, and kombu's (a Celery connection pool of the parent, e.g. in a test process
    # that ran a worker) can block the child forever closing a channel it shares.
    children = []
    for index in range(workers):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run its share, send the result, leave without cleanup
            os.close(read_end)
            events.forget_connection()  # publish on a socket of its own
            try:
                result = _work(index, people)
                with os.fdopen(write_end, "wb") as pipe:
                    pickle.dump(result, pipe)
            finally:
                os._exit(0)
        os.close(write_end)
        children.append((pid, read_end))
    results = []
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        results.append(pickle.loads(data) if data else ("failed", "a worker died", []))
    failed = [r[1] for r in results if r[0] == "failed"]
    if failed:
        raise RuntimeError("a demo case worker failed:\n" + failed[0])
    ids = [i for _, share_ids, _ in results for i in share_ids]
    errors = [e for _, _, share_errors in results for e in share_errors]
    return ids, errors


def _by_day(plans: list[Plan], workers: int) -> list[list[Plan]]:
    """The plans split by local report day over `workers` shares of about equal steps, each
    in report-time order."""
    shares: list[list[Plan]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for _, day in groupby(plans, key=lambda p: timezone.localdate(p.steps[0].at)):
        day_plans = list(day)
        lightest = loads.index(min(loads))
        shares[lightest].extend(day_plans)
        loads[lightest] += sum(len(p.steps) for p in day_plans)
    for share in shares:
        share.sort(key=lambda p: p.steps[0].at)
    return shares


def _work(index: int, people: DemoPeople) -> tuple:
    try:
        # A forked child must not send Celery tasks on its parent's broker connection: its
        # notifications wait for beat's sweep.
        with notifications.quiet():
            ids, errors = run_share(_shares[index], people)
        return ("done", ids, errors)
    except BaseException:
        return ("failed", traceback.format_exc(), [])
    finally:
        connections.close_all()
