"""Standard phrases (惯用语, spec 5.1.3.19 and 5.1.8.5.2): short texts offered in the opinion box
of each action, clicked in instead of typed.

System phrases (no owner) are everyone's, per action, and kept by system administrators
(``system.admin``); the defaults below are written after migrate for actions that have none.
Personal phrases belong to one person, who adds, edits and deletes their own; nobody else sees
or touches them. `phrases_for` gives a person's own first, then the system's.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Conflict, Forbidden, NotFound

from .models import Phrase

# The forms that take an opinion, by the action (or form) key the console asks with.
ACTIONS: dict[str, str] = {
    "accept": "受理",
    "not_accept": "不予受理",
    "restore": "恢复",
    "request_verify": "派发核实",
    "verify": "核实",
    "register": "立案",
    "not_register": "不予立案",
    "dispatch": "派遣",
    "feedback": "处置反馈",
    "request_check": "派发核查",
    "check": "核查",
    "close": "结案",
    "rework": "返工",
    "apply": "申请理由",
    "answer": "审批意见",
    "callback": "回访",
    "supervise": "督办",
    "reply_supervision": "督办回复",
    "annotate": "批注",
    "request_supplement": "派发补采",
    "supplement": "补采上报",
    "archive": "归档",
    "send_to_register": "转立案",
    "redispatch": "改派",
    "release": "解除挂账",
}

DEFAULT_PHRASES: dict[str, list[str]] = {
    "accept": ["经初步审核，问题属实，予以受理。", "信息完整，予以受理。"],
    "not_accept": [
        "重复上报，不予受理。",
        "不属于城市管理范围，不予受理。",
        "信息不全，无法定位。",
    ],
    "restore": ["经复核，恢复受理。"],
    "request_verify": ["请尽快到现场核实问题是否属实。"],
    "verify": ["现场核实，问题属实。", "现场核实，问题不存在。"],
    "register": ["符合立案条件，予以立案。", "问题属实，按部件事件标准立案。"],
    "not_register": ["不符合立案条件。", "已自行处置，不予立案。"],
    "dispatch": ["请按时限处置并反馈。", "请尽快处置，注意现场安全。"],
    "feedback": ["已处置完毕，现场已恢复。", "已安排人员处置。"],
    "request_check": ["请到现场核查处置结果。"],
    "check": ["现场核查，已处置到位。", "现场核查，处置不到位。"],
    "close": ["经核查处置到位，予以结案。"],
    "rework": ["处置不到位，请重新处置。"],
    "apply": ["现场情况复杂，需协调相关单位。", "需采购材料，无法在时限内完成。"],
    "answer": ["同意。", "理由不充分，不予同意。"],
    "callback": ["市民对处置结果表示满意。", "多次联系未接通。"],
    "supervise": ["该案件即将超期，请加快处置并及时反馈。", "群众反映强烈，请优先处置。"],
    "reply_supervision": ["已安排人员处置，预计今日完成。", "已处置完毕，请核查。"],
    "annotate": ["处置部门反映现场需协调，请结案时参考。", "已电话联系处置部门。"],
    "request_supplement": ["照片不清晰，请到现场补拍。", "位置不准确，请重新定位并补充描述。"],
    "supplement": ["已补拍现场照片，并补充问题描述。"],
    "archive": ["已自行处置完毕，予以归档。"],
    "send_to_register": ["现场无法自行处置，转立案处理。"],
    "redispatch": ["原处置部门职责不符，改派至相关部门。"],
    "release": ["挂账原因已消除，解除挂账。"],
}

MAX_TEXT = 500


def load_default_phrases(sender=None, using="default", **kwargs) -> int:
    """Writes the default system phrases of each action that has none (idempotent: edited or
    deleted system phrases of an action are left as they are once it has one). Gives how many
    actions got phrases."""
    now = timezone.now()
    have = set(
        Phrase.objects.using(using).filter(owner__isnull=True).values_list("action", flat=True)
    )
    rows = [
        Phrase(action=key, text=text, sort_order=i, created_at=now, updated_at=now)
        for key, texts in DEFAULT_PHRASES.items()
        if key not in have
        for i, text in enumerate(texts)
    ]
    Phrase.objects.using(using).bulk_create(rows)
    return len({r.action for r in rows})


def phrases_for(scope: Scope, action_key: str | None = None) -> list[Phrase]:
    """The caller's own phrases, then the system's, each in their order; of one action when
    `action_key` is given."""
    scope.require_signed_in()
    found = Phrase.objects.filter(Q(owner__isnull=True) | Q(owner_id=scope.user.pk))
    if action_key:
        found = found.filter(action=_valid_action(action_key))
    mine_first = Case(When(owner__isnull=True, then=Value(1)), default=Value(0))
    return list(found.annotate(system=mine_first).order_by("system", "action", "sort_order", "id"))


def _valid_action(key) -> str:
    if key not in ACTIONS:
        raise BadInput(f"unknown action {key!r}; one of {', '.join(ACTIONS)}", field="action")
    return key


def _valid_text(text) -> str:
    text = (text or "").strip()
    if not text:
        raise BadInput("give the phrase's text", field="text")
    if len(text) > MAX_TEXT:
        raise BadInput(f"a phrase is at most {MAX_TEXT} characters", field="text")
    return text


def _may_keep_system(scope: Scope) -> None:
    if not scope.has_perm(perms.SYSTEM_ADMIN):
        raise Forbidden("only a system administrator keeps the system phrases")


def _save(row: Phrase) -> Phrase:
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict("that phrase is already there", field="text") from None
    return row


def _own_or_system(scope: Scope, phrase_id) -> Phrase:
    """The phrase locked for a change: the caller's own, or a system one for an administrator
    (403 for others); another person's is 404, as if it did not exist."""
    try:
        pk = int(phrase_id)
    except (TypeError, ValueError):
        raise NotFound(f"no phrase {phrase_id}") from None
    row = (
        Phrase.objects.select_for_update()
        .filter(Q(owner__isnull=True) | Q(owner_id=scope.user.pk), pk=pk)
        .first()
    )
    if row is None:
        raise NotFound(f"no phrase {phrase_id}")
    if row.owner_id is None:
        _may_keep_system(scope)
    return row


def _target(*args, **kwargs) -> str:
    return str(args[0]) if args else str(kwargs.get("action_key", ""))


@action("cases.add_phrase", permission=None, target=_target)
def do_add_phrase(
    scope: Scope,
    action_key: str,
    *,
    text: str,
    system: bool = False,
    sort_order: int | None = None,
    at: dt.datetime | None = None,
) -> Phrase:
    """Adds a phrase for `action_key`: the caller's own, or (`system`, administrators only) one
    everyone is offered. 409 when the same text is already there."""
    scope.require_signed_in()
    at = at or timezone.now()
    key, text = _valid_action(action_key), _valid_text(text)
    if system:
        _may_keep_system(scope)
    owner_id = None if system else scope.user.pk
    if sort_order is None:
        sort_order = Phrase.objects.filter(owner_id=owner_id, action=key).count()
    return _save(
        Phrase(
            action=key,
            text=text,
            owner_id=owner_id,
            sort_order=sort_order,
            created_at=at,
            updated_at=at,
        )
    )


@action("cases.edit_phrase", permission=None, target=_target)
def do_edit_phrase(
    scope: Scope,
    phrase_id,
    *,
    text: str | None = None,
    action_key: str | None = None,
    sort_order: int | None = None,
    at: dt.datetime | None = None,
) -> Phrase:
    """Changes the text, action or place of one of the caller's phrases (or a system phrase,
    as an administrator)."""
    scope.require_signed_in()
    row = _own_or_system(scope, phrase_id)
    if text is None and action_key is None and sort_order is None:
        raise BadInput("nothing to change", field="text")
    if text is not None:
        row.text = _valid_text(text)
    if action_key is not None:
        row.action = _valid_action(action_key)
    if sort_order is not None:
        row.sort_order = sort_order
    row.updated_at = at or timezone.now()
    return _save(row)


@action("cases.delete_phrase", permission=None, target=_target)
def do_delete_phrase(scope: Scope, phrase_id) -> None:
    """Deletes one of the caller's phrases (or a system phrase, as an administrator)."""
    scope.require_signed_in()
    _own_or_system(scope, phrase_id).delete()
