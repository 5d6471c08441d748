"""Session sign-in pages, mounted under /accounts/."""

from django.urls import path

from accounts import pages

urlpatterns = [
    path("login/", pages.LoginPage.as_view(), name="accounts-login"),
    path("logout/", pages.LogoutPage.as_view(), name="accounts-logout"),
]
