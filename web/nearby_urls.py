"""Routes under /api/v1/ that join cases and tracking (search around, send the nearest
inspector): glue in the project shell, see `web.nearby` and `web.send_nearest`."""

from django.urls import path

from web.nearby import CaseNearbyView, NearbyView
from web.send_nearest import SendNearestView

urlpatterns = [
    path("nearby", NearbyView.as_view(), name="nearby"),
    path("cases/<int:case_id>/nearby", CaseNearbyView.as_view(), name="case-nearby"),
    path("cases/<int:case_id>/send-nearest", SendNearestView.as_view(), name="case-send-nearest"),
]
