"""Moderation of what the public sees (公开内容审核): the centre (``cases.accept``) hides a
case from the public, hides or rewrites its description or a step's opinion, hides a photo —
or restores it. The original text and file are never touched: a `PublicEdit` row says what
the public gets instead, and the case's history records each change (action
``public_edit``, the state does not move)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput

from .. import visibility
from ..actions import record_event, set_history_actor, case_target
from ..models import CaseEvent, CaseMedia
from .models import PublicEdit

T = PublicEdit.Target


@action(
    "cases.public_edit",
    permission=perms.CASES_ACCEPT,
    target=case_target,
    details=lambda case_id, *, target, **kw: {"target": target, "restore": kw.get("restore")},
)
def do_moderate(
    scope: Scope,
    case_id,
    *,
    target: str,
    event_id: int | None = None,
    media_id: int | None = None,
    hidden: bool = False,
    text: str = "",
    reason: str = "",
    restore: bool = False,
    at: dt.datetime | None = None,
) -> PublicEdit | None:
    """Sets (or with `restore` removes) the public edit of one part of a case the caller sees;
    gives the edit (None when restored)."""
    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if target not in T.values:
        raise BadInput(f"target is one of {', '.join(T.values)}", field="target")
    event = media = None
    if target == T.OPINION:
        event = CaseEvent.objects.filter(case=case, pk=event_id).first() if event_id else None
        if event is None:
            raise BadInput("name a step of this case", field="event")
    if target == T.MEDIA:
        media = CaseMedia.objects.filter(case=case, pk=media_id).first() if media_id else None
        if media is None:
            raise BadInput("name a photo of this case", field="media")
    if target in (T.CASE, T.MEDIA) and text:
        raise BadInput("a case or a photo is hidden or shown, not rewritten", field="text")
    if not restore and not hidden and not text.strip():
        raise BadInput("hide it, or give the public text instead", field="text")
    if len(text) > 4000 or len(reason) > 200:
        raise BadInput("text has at most 4000 characters, reason 200", field="text")
    set_history_actor(scope)
    existing = PublicEdit.objects.filter(case=case, target=target, event=event, media=media)
    if restore:
        existing.delete()
        edit = None
    else:
        edit, _ = PublicEdit.objects.update_or_create(
            case=case,
            target=target,
            event=event,
            media=media,
            defaults={
                "hidden": hidden,
                "text": "" if hidden else text.strip(),
                "reason": reason.strip(),
                "edited_by": scope.user,
                "edited_at": at,
            },
        )
    details = {
        "target": target,
        "event": event.pk if event else None,
        "media": media.pk if media else None,
        "hidden": hidden,
        "restored": restore,
    }
    record_event(scope, case, "public_edit", case.state, case.state, at, reason.strip(), details)
    return edit
