"""The evaluation indicators (考核指标, spec 5.1.5) as data: one row per indicator with its code,
Chinese name, definition, and for a rate its numerator and denominator (both counts of the same
subject). `evaluation.indicators` computes the counts in SQL from the case events; the rates are
the counts' quotients (None when the denominator is 0). docs/evaluation.md prints this table.

Subjects: ``area`` (区域评价: district, street, community or unit grid of the case's placement
snapshot), ``department`` (部门评价: a handling department's shares of cases), and the
positions (岗位评价): ``inspector`` (监督员/网格员), ``acceptor`` (受理员), ``shift_leader``
(值班长) and ``dispatcher`` (派遣员).
"""

from __future__ import annotations

from dataclasses import dataclass

AREA, DEPARTMENT = "area", "department"
INSPECTOR, ACCEPTOR, SHIFT_LEADER, DISPATCHER = (
    "inspector",
    "acceptor",
    "shift_leader",
    "dispatcher",
)
SUBJECTS = (AREA, DEPARTMENT, INSPECTOR, ACCEPTOR, SHIFT_LEADER, DISPATCHER)
POSITIONS = (INSPECTOR, ACCEPTOR, SHIFT_LEADER, DISPATCHER)
SUBJECT_NAMES = {
    AREA: "区域评价",
    DEPARTMENT: "部门评价",
    INSPECTOR: "监督员岗位评价",
    ACCEPTOR: "受理员岗位评价",
    SHIFT_LEADER: "值班长岗位评价",
    DISPATCHER: "派遣员岗位评价",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator: a count (of cases, department shares, events or tasks, as its subject
    counts) or a rate of two counts. `lower_is_better` rates enter the composite index as
    1 − rate."""

    subject: str
    code: str
    name: str
    definition: str
    numerator: str = ""
    denominator: str = ""
    lower_is_better: bool = False

    @property
    def is_rate(self) -> bool:
        return bool(self.denominator)


_I = Indicator
# The cohort of the area and inspector counts: the cases reported in [from, to) (not the
# department cases of a multi-department dispatch), followed through their events before `to`.
INDICATORS: list[Indicator] = [
    # ---- areas: one count per case of the cohort placed in the area
    _I(AREA, "reports", "上报数", "cases reported in the period, placed in the area"),
    _I(AREA, "inspector_reports", "监督员上报数", "reports whose source is an inspector"),
    _I(AREA, "public_reports", "公众举报数", "reports from the public or the 12345 hotline"),
    _I(AREA, "public_valid_reports", "公众有效举报数", "public reports found valid"),
    _I(
        AREA,
        "valid_reports",
        "有效上报数",
        "reports found valid: accepted (and verified where the workflow verifies) into 待立案",
    ),
    _I(AREA, "valid_rate", "有效上报率", "valid reports / reports", "valid_reports", "reports"),
    _I(AREA, "registered", "立案数", "reports registered (立案)"),
    _I(
        AREA, "register_rate", "立案率", "registered / valid reports", "registered", "valid_reports"
    ),
    _I(AREA, "due_handling", "应处置数", "registered cases dispatched to a department"),
    _I(
        AREA,
        "handled",
        "处置数",
        "cases whose last handling round (from the last dispatch, re-dispatch or rework) was "
        "fed back (处置反馈 into 待核查)",
    ),
    _I(AREA, "handle_rate", "处置率", "handled / due for handling", "handled", "due_handling"),
    _I(
        AREA,
        "handled_on_time",
        "按期处置数",
        "handled, the last feedback at or before the case's handling deadline (after "
        "extensions, holds, re-dispatch and rework)",
    ),
    _I(
        AREA,
        "on_time_handle_rate",
        "按期处置率",
        "handled on time / due for handling",
        "handled_on_time",
        "due_handling",
    ),
    _I(AREA, "due_close", "应结案数", "registered cases not voided"),
    _I(AREA, "closed", "结案数", "cases closed (结案)"),
    _I(AREA, "close_rate", "结案率", "closed / due to close", "closed", "due_close"),
    _I(AREA, "closed_on_time", "按期结案数", "closed, and handled on time"),
    _I(
        AREA,
        "on_time_close_rate",
        "按期结案率",
        "closed on time / due to close",
        "closed_on_time",
        "due_close",
    ),
    _I(AREA, "reworked", "返工数", "handled cases sent back for rework (返工) at least once"),
    _I(AREA, "rework_rate", "返工率", "reworked / handled", "reworked", "handled", True),
    # ---- departments: one count per share (a case received by the department in the period)
    _I(
        DEPARTMENT,
        "received",
        "接收数",
        "cases dispatched, re-dispatched or transferred to the department in the period (a "
        "parallel dispatch gives each of its departments a share)",
    ),
    _I(
        DEPARTMENT,
        "in_progress",
        "处理中数",
        "received, still the department's, not closed or voided, and not fed back since the "
        "last dispatch or rework",
    ),
    _I(
        DEPARTMENT,
        "overdue_in_progress",
        "处理中超期数",
        "in progress with the case's handling deadline before the period's end",
    ),
    _I(DEPARTMENT, "handled", "处置数", "fed back by the department since the last (re)start"),
    _I(
        DEPARTMENT,
        "handled_on_time",
        "按期处置数",
        "handled, the department's feedback at or before the handling deadline",
    ),
    _I(
        DEPARTMENT,
        "on_time_handle_rate",
        "按期处置率",
        "handled on time / received",
        "handled_on_time",
        "received",
    ),
    _I(DEPARTMENT, "closed", "结案数", "received, still the department's, and closed"),
    _I(DEPARTMENT, "close_rate", "结案率", "closed / received", "closed", "received"),
    _I(
        DEPARTMENT,
        "closed_overdue",
        "结案超期数",
        "closed, the last feedback after the handling deadline",
    ),
    _I(
        DEPARTMENT,
        "overdue_close_rate",
        "超期结案率",
        "closed overdue / closed",
        "closed_overdue",
        "closed",
        True,
    ),
    _I(
        DEPARTMENT,
        "reworked",
        "核查未通过再派遣数",
        "the department's cases sent back for rework after a failed check (返工)",
    ),
    _I(DEPARTMENT, "rework_rate", "返工率", "reworked / handled", "reworked", "handled", True),
    _I(
        DEPARTMENT,
        "wrong_dispatches",
        "错派数",
        "received and re-dispatched away by the centre (events marked evaluation: wrong_dispatch)",
    ),
    _I(
        DEPARTMENT,
        "returned",
        "回退数",
        "received and returned to the centre (events marked evaluation: returned)",
    ),
    # ---- inspectors (cohort: the cases reported in the period; tasks sent in the period)
    _I(INSPECTOR, "reports", "上报数", "cases the inspector reported"),
    _I(INSPECTOR, "valid_reports", "有效上报数", "of them found valid (into 待立案)"),
    _I(INSPECTOR, "valid_rate", "有效上报率", "valid / reports", "valid_reports", "reports"),
    _I(
        INSPECTOR,
        "missed_reports",
        "漏报数",
        "valid public reports placed in the inspector's responsibility grids (their area if "
        "none) that the inspector had not reported: no report of theirs of the same class "
        "within the configured distance in the configured hours before",
    ),
    _I(
        INSPECTOR,
        "found",
        "应发现数",
        "valid reports + missed reports",
    ),
    _I(
        INSPECTOR,
        "missed_rate",
        "漏报率",
        "missed / (valid reports + missed)",
        "missed_reports",
        "found",
        True,
    ),
    _I(INSPECTOR, "verify_tasks", "核实任务数", "verification tasks sent in the period"),
    _I(
        INSPECTOR,
        "verified_on_time",
        "按时核实数",
        "of them answered before the period's end, at or before the task's deadline",
    ),
    _I(
        INSPECTOR,
        "on_time_verify_rate",
        "按时核实率",
        "verified on time / verification tasks",
        "verified_on_time",
        "verify_tasks",
    ),
    _I(INSPECTOR, "check_tasks", "核查任务数", "check tasks sent in the period"),
    _I(INSPECTOR, "checked_on_time", "按时核查数", "of them answered on time"),
    _I(
        INSPECTOR,
        "on_time_check_rate",
        "按时核查率",
        "checked on time / check tasks",
        "checked_on_time",
        "check_tasks",
    ),
]
# The centre positions count the person's acts (events) in the period: `acts` is their number,
# `acts_on_time` those taken within the limit of the stage they ended (a stage limited in
# natural time; one limited in working time, or without a limit, is on time).
_POSITION_ACTS = {
    ACCEPTOR: "accept, not accept, restore, request verification or check",
    SHIFT_LEADER: "register, not register, close, rework, archive, send to registration",
    DISPATCHER: "dispatch and re-dispatch (automatic dispatch counts to the registering person)",
}
for _subject, _acts in _POSITION_ACTS.items():
    INDICATORS += [
        _I(_subject, "acts", "办理数", f"acts in the period: {_acts}"),
        _I(
            _subject,
            "acts_on_time",
            "按时办理数",
            "acts taken within the limit of the stage they ended",
        ),
        _I(
            _subject,
            "on_time_rate",
            "按时办理率",
            "acts on time / acts",
            "acts_on_time",
            "acts",
        ),
    ]
INDICATORS += [
    _I(
        DISPATCHER,
        "accurate",
        "准确派遣数",
        "dispatches not undone: the next dispatch change of the case before the period's end "
        "is not a re-dispatch (错派) or a return (回退)",
    ),
    _I(DISPATCHER, "accurate_rate", "准确派遣率", "accurate / acts", "accurate", "acts"),
]

BY_SUBJECT: dict[str, dict[str, Indicator]] = {s: {} for s in SUBJECTS}
for _indicator in INDICATORS:
    BY_SUBJECT[_indicator.subject][_indicator.code] = _indicator


def counts_of(subject: str) -> list[str]:
    """The codes of the subject's counts, in table order."""
    return [i.code for i in BY_SUBJECT[subject].values() if not i.is_rate]


def rates(subject: str, counts: dict[str, int]) -> dict[str, float | None]:
    """The subject's rates from its counts (None when a denominator is 0), rounded to 4
    places."""
    found = {}
    for indicator in BY_SUBJECT[subject].values():
        if indicator.is_rate:
            below = counts.get(indicator.denominator, 0)
            above = counts.get(indicator.numerator, 0)
            found[indicator.code] = round(above / below, 4) if below else None
    return found
