"""`manage.py build_road_graph`: the road graph made again from the road segments."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from spatial import routing


class Command(BaseCommand):
    help = (
        "Rebuild the road graph (spatial_roadedge) from the road segments: noded at crossings, "
        "cost = length in metres. demo_city and a roads layer import run it; run it after "
        "editing roads otherwise."
    )

    def handle(self, *args, verbosity=1, **options):
        started = time.monotonic()
        edges = routing.rebuild_graph()
        if verbosity >= 1:
            method = "road" if routing.routing_available() else "straight (no pgRouting)"
            self.stdout.write(
                f"road graph: {edges:,d} edges in {time.monotonic() - started:.1f} s; "
                f"nearest search by {method}"
            )
