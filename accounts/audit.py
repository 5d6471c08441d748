"""The operation log (操作日志) of every write through the API, in the write's transaction.

Actions (`accounts.oplog.action`) write their own log rows, from HTTP and from everywhere
else. `OperationLogMiddleware` makes HTTP writes whole and leaves no write unlogged: every
POST, PUT, PATCH or DELETE under /api/, /ogc or /tiles runs inside ``transaction.atomic()``
with an HTTP `Origin` (method, path, client address) that the actions' rows record. When the
view answers below 400 the rows its actions wrote get the status and duration; a write route
that ran no action still gets a row of its own (who, positions, route, arguments, status, IP,
time), inside the same transaction, so the write and its log commit or roll back together.
When it answers 400 or more the transaction is rolled back (nothing half-written) and the
failure is logged afterwards in a transaction of its own, under the action's verb when an
action was refused.

Views that must keep their own writes on failure (the sign-in endpoints, which record failed
attempts in the login log) are marked `@own_transaction`; they are logged in the login log.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, resolve

from accounts.authentication import client_ip, request_user
from accounts.checks import refuse_demo_users_if_serving
from accounts.models import OperationLog
from core.context import Origin, origin
from core.errors import ApiError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDITED_PREFIXES = ("/api/", "/ogc", "/tiles")


def own_transaction(view):
    """Marks a view (function or class) that manages its own transaction and log."""
    view.citygrid_own_transaction = True
    return view


def _is_own_transaction(match: ResolverMatch | None) -> bool:
    if match is None:
        return False
    func = match.func
    for owner in (func, getattr(func, "view_class", None), getattr(func, "cls", None)):
        if owner is not None and getattr(owner, "citygrid_own_transaction", False):
            return True
    return False


def _resolve(request: HttpRequest) -> ResolverMatch | None:
    try:
        return resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return None


def append_operation_log(
    request: HttpRequest,
    status: int,
    match: ResolverMatch | None,
    started: float,
    attempted: str = "",
) -> OperationLog:
    """Appends the operation log row of one write request."""
    from accounts.scoping import scope_for

    try:
        user = request_user(request)
        positions = ",".join(scope_for(request).position_names) if user else ""
    except ApiError:
        user, positions = None, ""
    target = ""
    if match is not None:
        target = ",".join(str(v) for _, v in sorted(match.kwargs.items()))
        target = target or ",".join(str(a) for a in match.args)
    return OperationLog.objects.create(
        user=user,
        username=user.get_username() if user else "",
        positions=positions[:256],
        method=request.method[:8],
        path=request.path[:512],
        action=(attempted or (match.view_name if match else "") or request.path)[:128],
        target=target[:256],
        status=status,
        outcome=OperationLog.Outcome.SUCCESS if status < 400 else OperationLog.Outcome.FAILURE,
        ip=client_ip(request),
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


class OperationLogMiddleware:
    """Wraps API writes in one transaction with their operation log row (see module doc)."""

    def __init__(self, get_response):
        refuse_demo_users_if_serving()
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in WRITE_METHODS or not request.path.startswith(AUDITED_PREFIXES):
            return self.get_response(request)
        match = _resolve(request)
        if _is_own_transaction(match):
            return self.get_response(request)
        started = time.perf_counter()
        here = Origin(via="http", method=request.method, path=request.path, ip=client_ip(request))
        try:
            with origin(here), transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
                elif here.logged:
                    OperationLog.objects.filter(pk__in=here.logged).update(
                        status=response.status_code,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )
                else:
                    append_operation_log(request, response.status_code, match, started)
        except Exception:
            with transaction.atomic():
                append_operation_log(request, 500, match, started, here.attempted)
            raise
        if response.status_code >= 400:
            with transaction.atomic():
                append_operation_log(request, response.status_code, match, started, here.attempted)
        return response
