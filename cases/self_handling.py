"""Self-handling (自行处置, spec 5.1.1.2 and 5.1.2.2): an inspector reports a small problem they
fixed on the spot, with photos before and after handling (both required).

The case runs the ``self-handled`` workflow (`cases.workflows`, chosen for inspector reports
with the self-handled flag): it starts in ``to_review`` (待审核), the acceptor's box 自行处置.
There the acceptor archives it (`archive`: closed, counted as self-handled — the case keeps
``self_handled``) or, when it was not really fixed, sends it to registration
(`send_to_register`, with the reason), after which it runs the normal path (register →
dispatch → handling → check → close). Both are transitions in `cases.actions`.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput

from .actions import NewCase, create_case, reported_before, store_media
from .models import Case, CaseEvent, CaseMedia, Source

# (upload, its checked content type): the API checks type, content and size first.
CheckedFile = tuple[object, str]


@action(
    "cases.report_self_handled",
    permission=perms.CASES_REPORT,
    details=lambda new, **kw: {
        "category": new.category.code,
        "before": len(kw.get("before") or ()),
        "after": len(kw.get("after") or ()),
    },
)
def do_report_self_handled(
    scope: Scope,
    new: NewCase,
    *,
    before: list[CheckedFile],
    after: list[CheckedFile],
    at: dt.datetime | None = None,
) -> Case:
    """Reports a problem the inspector fixed on the spot (自行处置上报): the case is placed and
    numbered as any report, starts waiting for the acceptor's review, and keeps the photos
    before handling (stage ``report``) and after it (stage ``self_handled``) with its report
    event."""
    at = at or timezone.now()
    if new.source != Source.INSPECTOR:
        raise BadInput("a self-handled case is an inspector's report", field="source")
    if not before:
        raise BadInput("add the photos taken before handling", field="before")
    if not after:
        raise BadInput("add the photos taken after handling", field="after")
    repeated = reported_before(scope, new.report_key)
    if repeated is not None:
        return repeated
    case = create_case(scope, new, at, self_handled=True)
    event = CaseEvent.objects.get(case=case, action="report")
    for stage, files in ((CaseMedia.Stage.REPORT, before), (CaseMedia.Stage.SELF_HANDLED, after)):
        for upload, content_type in files:
            store_media(scope, case, stage, upload, content_type, at, event=event)
    return case
