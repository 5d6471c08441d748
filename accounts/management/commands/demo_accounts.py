"""`manage.py demo_accounts [--print]`: the demo organization and its users (idempotent)."""

from django.core.management.base import BaseCommand

from spatial.models import AdminArea
from accounts.demo import DEMO_PASSWORD, build_demo_organization, describe


class Command(BaseCommand):
    help = "Create or update the demo departments, positions and one user per position."

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", help="print the table of demo users")

    def handle(self, *args, **options):
        if not AdminArea.objects.filter(level=AdminArea.Level.STREET).exists():
            self.stderr.write(
                "no streets yet (run manage.py demo_city first): creating city-level users only"
            )
        people = build_demo_organization()
        if options["print"]:
            rows = describe(people)
            widths = [max(len(getattr(r, f)) for r in rows) for f in ("username", "positions")]
            self.stdout.write(f"Demo users (password: {DEMO_PASSWORD})")
            for r in rows:
                self.stdout.write(
                    f"  {r.username:<{widths[0]}}  {r.positions:<{widths[1]}}  "
                    f"{r.department}  [{r.areas}]"
                )
        elif options["verbosity"] > 0:
            self.stdout.write(f"{len(people)} demo users ready (password: {DEMO_PASSWORD})")
