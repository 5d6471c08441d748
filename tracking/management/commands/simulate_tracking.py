"""``manage.py simulate_tracking [--url] [--interval 10] [--duration S] [--seed N]``: the demo
simulator (`tracking.simulator`), posting to a running server; stops cleanly on SIGTERM/SIGINT."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracking import simulator


class Command(BaseCommand):
    help = "Move the demo phones and vehicles along the demo roads through the ingest API."

    def add_arguments(self, parser):
        port = settings.CITYGRID_STREAM_PORT - 1  # the web port: streams listen on the next
        parser.add_argument("--url", default=f"http://127.0.0.1:{port}", help="the web server")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between fixes")
        parser.add_argument("--duration", type=float, default=None, help="seconds, default: ever")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--keep-running",
            action="store_true",
            help="with nothing to simulate, wait to be stopped instead of exiting (make run "
            "stops its processes together when one exits)",
        )

    def handle(self, *args, **options):
        if options["interval"] <= 0:
            raise CommandError("--interval must be positive")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        devices = simulator.load_fleet(options["seed"])
        if not devices:
            message = "no demo trackers with roads: run demo_city and demo_tracking"
            if not options["keep_running"]:
                raise CommandError(message)
            self.stderr.write(f"simulator idle: {message}")
            stop.wait()
            return
        if options["verbosity"] > 0:
            self.stdout.write(
                f"simulating {len(devices)} trackers every {options['interval']:g} s "
                f"against {options['url']}"
            )
        accepted = simulator.run(
            devices,
            simulator.Poster(options["url"]),
            options["interval"],
            options["duration"],
            stop,
            options["seed"],
        )
        if options["verbosity"] > 0:
            self.stdout.write(f"simulator stopped: {accepted} fixes accepted")
