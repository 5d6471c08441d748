"""Accounts API: sign-in tokens, the caller's profile, and the organization (departments,
positions, people, roles) for holders of `people.manage`."""

from __future__ import annotations

from django.contrib.auth import authenticate, logout
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import public
from accounts import actions
from accounts import permissions as perms
from accounts import serializers as s
from accounts.audit import own_transaction
from accounts.authentication import issue_token, log_login, request_token
from accounts.models import ApiToken, Department, LoginLog, Person, Position, Role
from accounts.scoping import scope_for
from accounts.services import effective_permissions
from core.errors import NotFound, Unauthorized

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
    default_limit = 100
    max_limit = 1000


@public
@own_transaction
class TokenView(APIView):
    """Sign in with username and password; answers a bearer token with its expiry."""

    authentication_classes: list = []

    @extend_schema(
        tags=[TAG],
        request=s.TokenRequestSerializer,
        responses={200: s.TokenResponseSerializer},
        summary="Sign in and get a bearer token",
        description="A locked account (too many failures) answers exactly like a wrong password.",
    )
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        request._request.citygrid_login_method = LoginLog.Method.TOKEN
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
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
