"""Routes of the evaluation API under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "evaluation/inspectors/work",
        api.InspectorsWorkView.as_view(),
        name="evaluation-inspectors-work",
    ),
    path(
        "evaluation/inspectors/<int:person_id>/work",
        api.InspectorWorkView.as_view(),
        name="evaluation-inspector-work",
    ),
    path(
        "evaluation/indicators",
        api.IndicatorsView.as_view(),
        name="evaluation-indicators",
    ),
    path(
        "evaluation/indicators/definitions",
        api.IndicatorDefinitionsView.as_view(),
        name="evaluation-indicator-definitions",
    ),
    path(
        "evaluation/indicators/cases",
        api.IndicatorCasesView.as_view(),
        name="evaluation-indicator-cases",
    ),
    path(
        "evaluation/indicators.xlsx",
        api.IndicatorsExportView.as_view(),
        name="evaluation-indicators-export",
    ),
    path("evaluation/reports", api.ReportsView.as_view(), name="evaluation-reports"),
    path(
        "evaluation/reports/<uuid:job_id>",
        api.ReportFileView.as_view(),
        name="evaluation-report-file",
    ),
]
