"""Session sign-in pages (页面登录) with CSRF, for the web pages and the Django admin."""

from math import ceil

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.authentication import throttle_wait
from accounts.models import LoginPolicy
from core.access import public


class _SaysWhenThrottled:
    """A sign-in form that says how long to wait when the attempt was throttled."""

    def get_invalid_login_error(self):
        wait = throttle_wait(self.request)
        if wait is None:
            return super().get_invalid_login_error()
        return ValidationError(
            "登录失败次数过多，请 %(wait)d 秒后再试 (too many failed sign-ins; try again in "
            "%(wait)d s).",
            code="throttled",
            params={"wait": ceil(wait)},
        )


class SignInForm(_SaysWhenThrottled, AuthenticationForm):
    pass


class AdminSignInForm(_SaysWhenThrottled, AdminAuthenticationForm):
    pass


@public
class LoginPage(auth_views.LoginView):
    """The sign-in page; the password check runs under the sign-in throttle (PolicyBackend):
    a throttled attempt is answered 429 with Retry-After and says how long to wait."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = SignInForm

    def get_context_data(self, **kwargs):
        wait = throttle_wait(self.request)
        return {
            **super().get_context_data(**kwargs),
            "policy": LoginPolicy.current(),
            "throttle_wait": ceil(wait) if wait is not None else None,
        }

    def form_invalid(self, form):
        response = super().form_invalid(form)
        wait = throttle_wait(self.request)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(ceil(wait))
        return response


class LogoutPage(auth_views.LogoutView):
    """Signs out (POST with the CSRF token) and shows the sign-in page again."""

    next_page = "accounts-login"
