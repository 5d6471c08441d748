"""``manage.py demo_tracking [--print]``: the demo trackers (after demo_accounts; idempotent)."""

from django.core.management.base import BaseCommand

from tracking.demo import build_demo_trackers


class Command(BaseCommand):
    help = "Create or update a tracker per demo inspector and the demo vehicles."

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", help="print the vehicles' keys")

    def handle(self, *args, **options):
        made = build_demo_trackers()
        if options["print"]:
            for t in made:
                if t.key:
                    self.stdout.write(
                        f"  {t.device_id}  {t.name}  Authorization: Device {t.device_id}:{t.key}"
                    )
        if options["verbosity"] > 0:
            self.stdout.write(f"{len(made)} demo trackers ready")
