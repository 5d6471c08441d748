"""Routes of the evaluation API under /api/v1/."""

from django.urls import include, path

from . import api, sampling_api

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
        "evaluation/indicators/cases.xlsx",
        api.IndicatorCasesExportView.as_view(),
        name="evaluation-indicator-cases-export",
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
    path("evaluation/samplings", sampling_api.SamplingsView.as_view(), name="evaluation-samplings"),
    path(
        "evaluation/samplings/<int:task_id>/issue",
        sampling_api.SamplingIssueView.as_view(),
        name="evaluation-sampling-issue",
    ),
    path(
        "evaluation/sampled-cases/<int:sampled_id>/score",
        sampling_api.SampledCaseScoreView.as_view(),
        name="evaluation-sampled-case-score",
    ),
    path(
        "evaluation/deduction-items",
        sampling_api.DeductionItemsView.as_view(),
        name="evaluation-deduction-items",
    ),
]
urlpatterns.append(path("", include("evaluation.comprehensive.urls")))
