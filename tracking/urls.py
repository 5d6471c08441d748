"""Routes of the tracking API under /api/v1/."""

from django.urls import path

from . import api, attendance_api, nearest_api, streams

urlpatterns = [
    path("tracking/fixes", api.FixesView.as_view(), name="tracking-fixes"),
    path("tracking/live", api.LiveView.as_view(), name="tracking-live"),
    path("tracking/alarms", api.AlarmsView.as_view(), name="tracking-alarms"),
    path(
        "tracking/alarms/<int:alarm_id>/acknowledge",
        api.AcknowledgeView.as_view(),
        name="tracking-alarm-acknowledge",
    ),
    path(
        "tracking/trackers/<int:tracker_id>/track",
        api.TrackView.as_view(),
        name="tracking-track",
    ),
    path("tracking/shifts", api.ShiftsView.as_view(), name="tracking-shifts"),
    path("tracking/roster", api.RosterView.as_view(), name="tracking-roster"),
    path(
        "tracking/roster/generate",
        api.RosterGenerateView.as_view(),
        name="tracking-roster-generate",
    ),
    path("tracking/roster/leave", api.RosterLeaveView.as_view(), name="tracking-roster-leave"),
    path("tracking/nearest", nearest_api.NearestView.as_view(), name="tracking-nearest"),
    path("tracking/clock", attendance_api.ClockView.as_view(), name="tracking-clock"),
    path("tracking/clocks", attendance_api.ClocksView.as_view(), name="tracking-clocks"),
    path(
        "tracking/clocks/<int:clock_id>/photo",
        attendance_api.ClockPhotoView.as_view(),
        name="tracking-clock-photo",
    ),
    path(
        "tracking/attendance", attendance_api.AttendanceView.as_view(), name="tracking-attendance"
    ),
    path(
        "tracking/attendance/explanations",
        attendance_api.ExplanationsView.as_view(),
        name="tracking-attendance-explanations",
    ),
    path(
        "tracking/attendance/explanations/<int:explanation_id>/decide",
        attendance_api.DecideView.as_view(),
        name="tracking-attendance-decide",
    ),
    path("tracking/routes", api.RoutesView.as_view(), name="tracking-routes"),
    path("tracking/routes/<int:route_id>", api.RouteView.as_view(), name="tracking-route"),
    path(
        "tracking/trackers/<int:tracker_id>/route",
        api.TrackerRouteView.as_view(),
        name="tracking-tracker-route",
    ),
    path("tracking/stream", streams.tracking_stream, name="tracking-stream"),
]
