"""Accounts routes, mounted under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from accounts import api, api_logs

router = SimpleRouter(trailing_slash=False)
router.register("departments", api.DepartmentViewSet, basename="accounts-department")
router.register("positions", api.PositionViewSet, basename="accounts-position")
router.register("people", api.PersonViewSet, basename="accounts-person")
router.register("roles", api.RoleViewSet, basename="accounts-role")

urlpatterns = [
    path("auth/token", api.TokenView.as_view(), name="auth-token"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/password", api.PasswordView.as_view(), name="auth-password"),
    path("auth/throttled", api.ThrottledView.as_view(), name="auth-throttled"),
    path("me", api.MeView.as_view(), name="me"),
    path("people/<int:pk>/permissions", api.PersonPermissionsView.as_view(), name="person-perms"),
    path("logs/logins", api_logs.LoginLogView.as_view(), name="logs-logins"),
    path("logs/operations", api_logs.OperationLogView.as_view(), name="logs-operations"),
    path("", include(router.urls)),
]
