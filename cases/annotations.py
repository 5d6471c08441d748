"""Annotations (批注, spec 5.1.2.17): short notes centre staff put on a case — what a handling
department said on the phone, what to weigh at close — kept in its history.

An annotation is a `CaseEvent` (``annotate``, the note as its opinion; the state does not move)
and nothing else: the history is where it is read, and like a supervision it does not move the
case's version, so a handler acting meanwhile is not turned away.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Forbidden

from . import visibility
from .actions import record_event, set_history_actor, case_target
from .models import CaseEvent

# The centre's permissions: acceptors, shift leaders, dispatchers and leaders annotate.
CENTRE = (perms.CASES_ACCEPT, perms.CASES_REGISTER, perms.CASES_DISPATCH, perms.CASES_SUPERVISE)
MAX_NOTE = 500


def may_annotate(scope: Scope) -> bool:
    return any(scope.has_perm(p) for p in CENTRE)


@action("cases.annotate", permission=None, target=case_target)
def do_annotate_case(
    scope: Scope, case_id, *, note: str, at: dt.datetime | None = None
) -> CaseEvent:
    """Puts a note (批注) on a case the caller sees, as centre staff; gives the event."""
    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if not may_annotate(scope):
        raise Forbidden("only the centre annotates cases")
    note = (note or "").strip()
    if not note:
        raise BadInput("give the note", field="note")
    if len(note) > MAX_NOTE:
        raise BadInput(f"a note is at most {MAX_NOTE} characters", field="note")
    set_history_actor(scope)
    return record_event(scope, case, "annotate", case.state, case.state, at, note, {})
