"""Session sign-in pages (页面登录) with CSRF, for the web pages and the Django admin."""

from django.contrib.auth import views as auth_views

from core.access import public
from accounts.models import LoginPolicy


@public
class LoginPage(auth_views.LoginView):
    """The sign-in page; the password check runs under the login policy (PolicyBackend)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "policy": LoginPolicy.current()}


class LogoutPage(auth_views.LogoutView):
    """Signs out (POST with the CSRF token) and shows the sign-in page again."""

    next_page = "accounts-login"
