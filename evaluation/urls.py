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

# The wall screen (大屏): evaluation/screen_api.py, docs/screen.md.
from . import process_api, screen_api  # noqa: E402

urlpatterns += [
    path("screen/census", screen_api.ScreenCensusView.as_view(), name="screen-census"),
    path("screen/cases", screen_api.ScreenCasesView.as_view(), name="screen-cases"),
    path("screen/index", screen_api.ScreenIndexView.as_view(), name="screen-index"),
    path("screen/sources", screen_api.ScreenSourcesView.as_view(), name="screen-sources"),
    path("screen/hot", screen_api.ScreenHotSummaryView.as_view(), name="screen-hot"),
    path("screen/hotspots", screen_api.ScreenHotSpotsView.as_view(), name="screen-hotspots"),
    path("screen/flows", screen_api.ScreenFlowsView.as_view(), name="screen-flows"),
    path("screen/components", screen_api.ScreenComponentsView.as_view(), name="screen-components"),
    path("screen/inspectors", screen_api.ScreenInspectorsView.as_view(), name="screen-inspectors"),
    path(
        "supervision/stages",
        process_api.SupervisionStagesView.as_view(),
        name="supervision-stages",
    ),
    path("supervision/cases", process_api.SupervisionCasesView.as_view(), name="supervision-cases"),
    path(
        "screen/cases/<int:case_id>/media/<int:media_id>/thumbnail",
        process_api.CaseThumbnailView.as_view(),
        name="screen-case-thumbnail",
    ),
    path(
        "supervision/cases/<int:case_id>/steps",
        process_api.SupervisionStepsView.as_view(),
        name="supervision-steps",
    ),
]
urlpatterns.append(path("", include("evaluation.comprehensive.urls")))
