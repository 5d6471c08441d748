"""Routes of the case API under /api/v1/."""

from django.urls import include, path

from . import (
    api,
    applications_api,
    assignment_api,
    autosend_api,
    callbacks_api,
    calendar_api,
    categories_api,
    controlled_areas_api,
    dispatching_api,
    export_api,
    field_api,
    merging_api,
    notifications_api,
    phrases_api,
    precheck_api,
    print_api,
    recommend_api,
    scheduling_api,
    streams,
    supervision_api,
)

urlpatterns = [
    path("", include("cases.open311.public_urls")),  # /api/v1/public/…: the public service
    path("calendar/deadline", calendar_api.DeadlineView.as_view(), name="calendar-deadline"),
    path("categories", categories_api.CategoriesView.as_view(), name="categories"),
    path("cases", api.CasesView.as_view(), name="cases"),
    path("controlled-areas", controlled_areas_api.AreasView.as_view(), name="controlled-areas"),
    path(
        "controlled-areas/<int:area_id>",
        controlled_areas_api.AreaView.as_view(),
        name="controlled-area",
    ),
    path(
        "controlled-areas/<int:area_id>/permit",
        controlled_areas_api.AreaPermitView.as_view(),
        name="controlled-area-permit",
    ),
    path(
        "controlled-areas/applications",
        controlled_areas_api.SuspensionsView.as_view(),
        name="collection-suspensions",
    ),
    path(
        "controlled-areas/applications/<int:application_id>/answer",
        controlled_areas_api.SuspensionAnswerView.as_view(),
        name="collection-suspension-answer",
    ),
    path("cases/stream", streams.case_stream, name="case-stream"),
    path("cases/departments", api.HandlingDepartmentsView.as_view(), name="case-departments"),
    path("cases/boxes", api.CaseBoxesView.as_view(), name="case-boxes"),
    path("cases/recommend", recommend_api.RecommendView.as_view(), name="case-recommend"),
    path("cases/precheck", precheck_api.PrecheckView.as_view(), name="case-precheck"),
    path(
        "cases/self-handled",
        field_api.SelfHandledReportView.as_view(),
        name="case-self-handled",
    ),
    path("cases/phrases", phrases_api.PhrasesView.as_view(), name="case-phrases"),
    path("cases/phrases/<int:phrase_id>", phrases_api.PhraseView.as_view(), name="case-phrase"),
    path("cases/export.xlsx", export_api.CaseExportView.as_view(), name="case-export"),
    path(
        "cases/exports/<uuid:job_id>",
        export_api.CaseExportFileView.as_view(),
        name="case-export-file",
    ),
    path("cases/print.pdf", print_api.CaseListPrintView.as_view(), name="case-list-print"),
    path(
        "cases/prints/<uuid:job_id>", print_api.CasePrintFileView.as_view(), name="case-print-file"
    ),
    path("cases/<int:case_id>/print.pdf", print_api.CasePrintView.as_view(), name="case-print"),
    path("cases/<int:case_id>", api.CaseView.as_view(), name="case"),
    path("cases/<int:case_id>/placement", api.CasePlacementView.as_view(), name="case-placement"),
    path("cases/<int:case_id>/history", api.CaseHistoryView.as_view(), name="case-history"),
    path(
        "cases/<int:case_id>/similar", precheck_api.CaseSimilarView.as_view(), name="case-similar"
    ),
    path("cases/merge", merging_api.CaseMergeView.as_view(), name="case-merge"),
    path(
        "cases/duplicates/statistics",
        precheck_api.DuplicateStatisticsView.as_view(),
        name="case-duplicate-statistics",
    ),
    path(
        "cases/assignment",
        assignment_api.AssignmentRulesView.as_view(),
        name="case-assignment-rules",
    ),
    path("cases/assignment/seats", assignment_api.SeatsView.as_view(), name="case-seats"),
    path(
        "cases/assignment/seats/<int:user_id>",
        assignment_api.SeatView.as_view(),
        name="case-seat",
    ),
    path("cases/assignment/duty", assignment_api.DutyView.as_view(), name="case-duty"),
    path("cases/auto-task-rules", autosend_api.RulesView.as_view(), name="case-auto-task-rules"),
    path(
        "cases/auto-task-rules/<int:rule_id>",
        autosend_api.RuleView.as_view(),
        name="case-auto-task-rule",
    ),
    path("cases/task-pool", autosend_api.PoolView.as_view(), name="case-task-pool"),
    path(
        "cases/<int:case_id>/tasks/<int:task_id>/claim",
        autosend_api.ClaimView.as_view(),
        name="case-task-claim",
    ),
    path("cases/<int:case_id>/assign", assignment_api.CaseAssignView.as_view(), name="case-assign"),
    path(
        "cases/<int:case_id>/reporters",
        merging_api.CaseReportersView.as_view(),
        name="case-reporters",
    ),
    path(
        "cases/<int:case_id>/duplicates",
        precheck_api.CaseDuplicatesView.as_view(),
        name="case-duplicates",
    ),
    path(
        "cases/<int:case_id>/actions/<str:name>",
        api.CaseActionView.as_view(),
        name="case-action",
    ),
    path("cases/<int:case_id>/media", api.CaseMediaView.as_view(), name="case-media"),
    path("cases/<int:case_id>/tasks", field_api.CaseTasksView.as_view(), name="case-tasks"),
    path(
        "cases/<int:case_id>/inspectors",
        field_api.CaseInspectorsView.as_view(),
        name="case-inspectors",
    ),
    path(
        "cases/<int:case_id>/applications",
        applications_api.CaseApplicationsView.as_view(),
        name="case-applications",
    ),
    path(
        "cases/<int:case_id>/release",
        applications_api.CaseReleaseView.as_view(),
        name="case-release",
    ),
    path(
        "cases/<int:case_id>/dispatches",
        dispatching_api.CaseDispatchesView.as_view(),
        name="case-dispatches",
    ),
    path(
        "cases/<int:case_id>/scheduled-dispatch",
        scheduling_api.CaseScheduledDispatchView.as_view(),
        name="case-scheduled-dispatch",
    ),
    path(
        "cases/<int:case_id>/callback",
        callbacks_api.CaseCallbackView.as_view(),
        name="case-callback",
    ),
    path(
        "cases/<int:case_id>/supervisions",
        supervision_api.CaseSupervisionsView.as_view(),
        name="case-supervisions",
    ),
    path(
        "cases/<int:case_id>/annotations",
        supervision_api.CaseAnnotationsView.as_view(),
        name="case-annotations",
    ),
    path(
        "supervisions/<int:supervision_id>/reply",
        supervision_api.SupervisionReplyView.as_view(),
        name="supervision-reply",
    ),
    path("applications", applications_api.ApplicationsView.as_view(), name="applications"),
    path("notifications", notifications_api.NotificationsView.as_view(), name="notifications"),
    path(
        "notifications/read",
        notifications_api.NotificationsReadView.as_view(),
        name="notifications-read",
    ),
    path(
        "applications/<int:application_id>/answer",
        applications_api.ApplicationAnswerView.as_view(),
        name="application-answer",
    ),
    path(
        "applications/<int:application_id>/withdraw",
        applications_api.ApplicationWithdrawView.as_view(),
        name="application-withdraw",
    ),
    path(
        "cases/<int:case_id>/media/<int:media_id>",
        api.CaseMediaFileView.as_view(),
        name="case-media-file",
    ),
]
