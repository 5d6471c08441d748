"""Accounts API: sign-in tokens, the caller's profile, and the organization (departments,
positions, people, roles) for holders of `people.manage`."""

from __future__ import annotations

import time

from django.contrib.auth import authenticate, logout, update_session_auth_hash
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import public
from accounts import actions, authcache
from accounts import permissions as perms
from accounts import serializers as s
from accounts import throttle
from accounts.audit import own_transaction
from accounts.authentication import (
    client_ip,
    issue_token,
    log_login,
    request_token,
    throttle_wait,
)
from accounts.models import ApiToken, Department, LoginLog, Person, Position, Role
from accounts.oplog import log_action
from accounts.scoping import scope_for
from accounts.services import effective_permissions
from core import params
from core.context import Origin, origin
from core.errors import ApiError, BadInput, ErrorSerializer, NotFound, Unauthorized

TAG = "accounts"


class Requires(BasePermission):
    """DRF permission: the caller's scope must hold `permission` (401 anonymous, 403 without)."""

    permission = ""

    def has_permission(self, request, view) -> bool:
        scope_for(request).require(self.permission)
        return True


def requires(permission: str) -> type[BasePermission]:
    """Gives a DRF permission class requiring `permission`."""
    return type(f"Requires_{permission.replace('.', '_')}", (Requires,), {"permission": permission})


class SignedIn(BasePermission):
    """DRF permission: any signed-in caller (401 for anonymous)."""

    def has_permission(self, request, view) -> bool:
        scope_for(request).require_signed_in()
        return True


class Pages(LimitOffsetPagination):
    """Pages of a list: `limit` 1..max_limit (a larger one is served at max_limit) and
    `offset` ≥ 0, read by `core.params`, so a value that is no such integer is a 400 rather
    than silently the default."""

    default_limit = 100
    max_limit = 1000

    def get_limit(self, request) -> int:
        return params.integer(
            request.query_params,
            "limit",
            self.default_limit,
            low=1,
            high=self.max_limit,
            clamp=True,
        )

    def get_offset(self, request) -> int:
        return params.integer(request.query_params, "offset", 0, low=0)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        described = super().get_schema_operation_parameters(view)
        bounds = {"limit": {"minimum": 1}, "offset": {"minimum": 0}}
        for parameter in described:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return described


THROTTLED = OpenApiResponse(
    response=ErrorSerializer,
    description="Too many failed sign-ins: wait the Retry-After seconds (error code throttled)",
)


def _check_password(request, username: str, password: str):
    """Gives the user when `password` is right, None when wrong; raises DRF's `Throttled`
    (429 with Retry-After) when the attempt must wait (see `accounts.throttle`)."""
    user = authenticate(request._request, username=username, password=password)
    if user is None:
        wait = throttle_wait(request)
        if wait is not None:
            raise drf_exceptions.Throttled(wait=wait, detail="too many failed sign-ins.")
    return user


@public
@own_transaction
class TokenView(APIView):
    """Sign in with username and password; answers a bearer token with its expiry."""

    authentication_classes: list = []

    @extend_schema(
        tags=[TAG],
        request=s.TokenRequestSerializer,
        summary="Sign in and get a bearer token",
        description="After repeated failures the next attempt must wait (429 `throttled` with "
        "Retry-After, growing with each failure up to LoginPolicy.throttle_max_seconds); a "
        "client that has not failed itself is never held back by failures from elsewhere.",
        responses={200: s.TokenResponseSerializer, 429: THROTTLED},
    )
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        request._request.citygrid_login_method = LoginLog.Method.TOKEN
        user = _check_password(
            request, data.validated_data["username"], data.validated_data["password"]
        )
        if user is None:
            raise Unauthorized("wrong username or password", code="invalid_credentials")
        raw, token = issue_token(user, request._request)
        return Response({"token": raw, "token_type": "Bearer", "expires_at": token.expires_at})


@own_transaction
class LogoutView(APIView):
    """Sign out: revokes the bearer token used, or ends the session."""

    permission_classes = [SignedIn]

    @extend_schema(tags=[TAG], request=None, responses={204: None}, summary="Sign out")
    def post(self, request):
        user = request.user
        token = request_token(request)
        if token is not None:
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
            authcache.invalidate()  # update() sends no signal
            log_login(
                request._request,
                user.get_username(),
                LoginLog.Outcome.LOGOUT,
                LoginLog.Method.TOKEN,
                user,
            )
        else:
            logout(request._request)  # the user_logged_out receiver writes the login log
        return Response(status=status.HTTP_204_NO_CONTENT)


@own_transaction
class PasswordView(APIView):
    """Change one's own password: ends one's other sessions and revokes all one's tokens."""

    permission_classes = [SignedIn]

    @extend_schema(
        tags=[TAG],
        request=s.PasswordChangeSerializer,
        responses={204: None, 429: THROTTLED},
        summary="Change my password",
        description="The current password is checked under the sign-in throttle. Every bearer "
        "token of the caller is revoked (sign in again with the new password) and every other "
        "session ends; the session this request came with stays signed in.",
    )
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        by_token = request_token(request) is not None
        request._request.citygrid_login_method = (
            LoginLog.Method.TOKEN if by_token else LoginLog.Method.SESSION
        )
        if (
            _check_password(request, user.get_username(), data.validated_data["old_password"])
            is None
        ):
            raise BadInput("the current password is wrong", field="old_password")
        # A sign-in view runs outside the operation-log middleware (own_transaction), so it
        # gives the action its HTTP origin and logs a refusal itself.
        started, scope = time.perf_counter(), scope_for(request)
        here = Origin(via="http", method=request.method, path=request.path, ip=client_ip(request))
        with origin(here):
            try:
                actions.do_change_password(scope, user, data.validated_data["new_password"])
            except ApiError as exc:
                verb = actions.do_change_password.verb
                log_action(scope, verb, user.get_username(), {}, started, failure=exc)
                raise
        if not by_token:
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThrottledView(APIView):
    """Who is being throttled at sign-in (登录限速), and clearing a counter."""

    permission_classes = [requires(perms.PEOPLE_MANAGE)]

    @extend_schema(
        tags=[TAG],
        responses={200: s.ThrottleEntrySerializer(many=True)},
        summary="Sign-in counters with failures",
        description="Usernames, clients and usernames at a client with failed sign-ins in the "
        "window, their count, the last failure and until when the next attempt must wait. "
        "System admins see every counter; other holders of people.manage see the usernames of "
        "people in their area.",
    )
    def get(self, request):
        scope = scope_for(request)
        return Response(s.ThrottleEntrySerializer(throttle.visible_to(scope), many=True).data)

    @extend_schema(
        tags=[TAG],
        parameters=[
            OpenApiParameter(
                "username",
                {"type": "string", "minLength": 1},
                description="counters naming this username (give it, the client, or both)",
            ),
            OpenApiParameter(
                "client",
                {"type": "string", "minLength": 1},
                description="counters naming this client address",
            ),
        ],
        responses={200: s.ThrottleEntrySerializer(many=True)},
        summary="Clear sign-in counters",
        description="Forgets the failures of every visible counter that names the given "
        "username and/or client (username alone: the username and its pairs; client alone: the "
        "client and its pairs; both: that pair). Answers the counters cleared.",
    )
    def delete(self, request):
        username = request.query_params.get("username") or None
        client = request.query_params.get("client") or None
        if username is None and client is None:
            raise BadInput("name a username or a client", field="username")
        cleared = actions.do_clear_throttle(scope_for(request), username=username, client=client)
        return Response(s.ThrottleEntrySerializer(cleared, many=True).data)


class MeView(APIView):
    """The caller: person, department, positions, areas and permissions."""

    permission_classes = [SignedIn]

    @extend_schema(tags=[TAG], responses={200: s.MeSerializer}, summary="Who am I")
    def get(self, request):
        scope = scope_for(request)
        user = request.user
        person = (
            Person.objects.select_related("department")
            .prefetch_related("positions__layers", "admin_areas", "grids")
            .filter(user=user)
            .first()
        )
        positions = list(person.positions.all()) if person else []
        layers = sorted({layer.key for p in positions for layer in p.layers.all()})
        body = {
            "id": person.pk if person else None,
            "username": user.get_username(),
            "name": (person.name if person else "") or user.get_full_name(),
            "is_superuser": user.is_superuser,
            "department": person.department if person else None,
            "positions": positions,
            "permissions": sorted(scope.permissions),
            "all_layers": scope.all_layers,
            "layers": layers,
            "admin_areas": [a.code for a in person.admin_areas.all()] if person else [],
            "grids": [g.code for g in person.grids.all()] if person else [],
            "area": person.area_geom if person else None,
            "scope_key": scope.key,
        }
        return Response(s.MeSerializer(body).data)


class PersonPermissionsView(APIView):
    """One person's effective permissions (查看人员权限, spec 5.1.8.2.5)."""

    permission_classes = [SignedIn]

    @extend_schema(
        tags=[TAG],
        responses={200: s.EffectivePermissionsSerializer},
        summary="A person's effective permissions",
        description="For holders of people.manage, and for the person themself.",
    )
    def get(self, request, pk: int):
        scope = scope_for(request)
        person = Person.objects.select_related("user").filter(pk=pk).first()
        if person is None or person.user_id != request.user.pk:
            scope.require(perms.PEOPLE_MANAGE)
        if person is None:
            raise NotFound(f"no person {pk}")
        return Response(effective_permissions(person))


class _ManagedViewSet(viewsets.ModelViewSet):
    """Organization records: reads through DRF, writes through the record's actions."""

    permission_classes = [requires(perms.PEOPLE_MANAGE)]
    save_action = staticmethod(lambda scope, serializer: None)
    delete_action = staticmethod(lambda scope, instance: None)

    def perform_create(self, serializer):
        serializer.instance = self.save_action(scope_for(self.request), serializer)

    def perform_update(self, serializer):
        serializer.instance = self.save_action(scope_for(self.request), serializer)

    def perform_destroy(self, instance):
        self.delete_action(scope_for(self.request), instance)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="Departments (部门)"),
    retrieve=extend_schema(tags=[TAG]),
    create=extend_schema(tags=[TAG]),
    update=extend_schema(tags=[TAG]),
    partial_update=extend_schema(tags=[TAG]),
    destroy=extend_schema(tags=[TAG]),
)
class DepartmentViewSet(_ManagedViewSet):
    queryset = Department.objects.select_related("parent", "area").all()
    serializer_class = s.DepartmentSerializer
    save_action = staticmethod(actions.do_save_department)
    delete_action = staticmethod(actions.do_delete_department)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="Positions (岗位)"),
    retrieve=extend_schema(tags=[TAG]),
    create=extend_schema(tags=[TAG]),
    update=extend_schema(tags=[TAG]),
    partial_update=extend_schema(tags=[TAG]),
    destroy=extend_schema(tags=[TAG]),
)
class PositionViewSet(_ManagedViewSet):
    queryset = Position.objects.prefetch_related("layers").all()
    serializer_class = s.PositionSerializer
    save_action = staticmethod(actions.do_save_position)
    delete_action = staticmethod(actions.do_delete_position)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="People (人员)"),
    retrieve=extend_schema(tags=[TAG]),
    create=extend_schema(tags=[TAG]),
    update=extend_schema(tags=[TAG]),
    partial_update=extend_schema(tags=[TAG]),
    destroy=extend_schema(tags=[TAG]),
)
class PersonViewSet(_ManagedViewSet):
    queryset = (
        Person.objects.select_related("user", "department")
        .prefetch_related("positions", "admin_areas", "grids")
        .all()
    )
    serializer_class = s.PersonSerializer
    save_action = staticmethod(actions.do_save_person)
    delete_action = staticmethod(actions.do_delete_person)
    pagination_class = Pages


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="Roles (角色)"),
    retrieve=extend_schema(tags=[TAG]),
    create=extend_schema(tags=[TAG]),
    update=extend_schema(tags=[TAG]),
    partial_update=extend_schema(tags=[TAG]),
    destroy=extend_schema(tags=[TAG]),
)
class RoleViewSet(_ManagedViewSet):
    queryset = Role.objects.prefetch_related("positions", "admin_areas", "grids").all()
    serializer_class = s.RoleSerializer
    save_action = staticmethod(actions.do_save_role)
    delete_action = staticmethod(actions.do_delete_role)

    @extend_schema(
        tags=[TAG],
        request=s.ApplyRoleSerializer,
        responses={
            200: inline_serializer(
                "AppliedRole",
                {
                    "role": drf_serializers.CharField(),
                    "people": drf_serializers.ListField(child=drf_serializers.IntegerField()),
                },
            )
        },
        summary="Apply a role's positions and areas to people",
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        role = self.get_object()
        data = s.ApplyRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        people = actions.do_apply_role(scope_for(request), role, data.validated_data["people"])
        return Response({"role": role.key, "people": [p.pk for p in people]})
