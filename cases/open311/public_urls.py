"""Routes of the public service's JSON API, mounted under /api/v1/ (public/…)."""

from django.urls import path

from . import moderation_api
from . import public_api as api

urlpatterns = [
    path("cases/<int:case_id>/public", moderation_api.CasePublicView.as_view(), name="case-public"),
    path("public/cases", api.PublicCasesView.as_view(), name="public-cases"),
    path("public/cases/<str:number>", api.PublicCaseView.as_view(), name="public-case"),
    path("public/media/<int:media_id>", api.public_media, name="public-media"),
    path("public/nearby", api.NearbyPointsView.as_view(), name="public-nearby"),
    path("public/citizens/code", api.CodeView.as_view(), name="public-citizen-code"),
    path("public/citizens/session", api.SessionView.as_view(), name="public-citizen-session"),
    path("public/reports", api.ReportView.as_view(), name="public-reports"),
    path("public/my/cases", api.MyCasesView.as_view(), name="public-my-cases"),
    path("public/my/cases/<str:number>/rating", api.RatingView.as_view(), name="public-rating"),
    path("public/my/cases/<str:number>/reopen", api.ReopenView.as_view(), name="public-reopen"),
    path(
        "public/my/cases/<str:number>/hide-name",
        api.HideNameView.as_view(),
        name="public-hide-name",
    ),
]
