"""The evaluation app's models: comprehensive evaluation (综合评价) in
`evaluation.comprehensive.models`."""

from evaluation.comprehensive.models import *  # noqa: F403
