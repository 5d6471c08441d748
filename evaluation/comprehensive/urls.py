"""Routes of comprehensive evaluation under /api/v1/evaluation/."""

from . import (
    config_api,
    fillings_api,
    inspections_api,
    results_api,
    samples_api,
    sampling_api,
)

urlpatterns = [
    *config_api.urlpatterns,
    *samples_api.urlpatterns,
    *sampling_api.urlpatterns,
    *inspections_api.urlpatterns,
    *fillings_api.urlpatterns,
    *results_api.urlpatterns,
]
