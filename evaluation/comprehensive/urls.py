"""Routes of comprehensive evaluation under /api/v1/evaluation/."""

from . import config_api, samples_api, sampling_api

urlpatterns = [*config_api.urlpatterns, *samples_api.urlpatterns, *sampling_api.urlpatterns]
