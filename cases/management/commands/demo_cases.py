"""`manage.py demo_cases [--count N] [--days D] [--seed S] [--if-empty]`: the demo city's case
history, generated through the case actions (`cases.demo`)."""

from django.core.management.base import BaseCommand, CommandError

from cases.demo import generate_demo_cases
from cases.models import Case
from core.context import Origin, origin


class Command(BaseCommand):
    help = "Generate the demo city's case history through the case actions, as the demo people."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3000, help="cases (default 3000)")
        parser.add_argument(
            "--days", type=int, default=120, help="over the last D days (default 120)"
        )
        parser.add_argument("--seed", type=int, default=1, help="the same seed, the same cases")
        parser.add_argument(
            "--workers", type=int, default=2, help="processes running the actions (default 2)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any case exists"
        )

    def handle(self, *args, **options):
        if options["if_empty"] and Case.objects.exists():
            if options["verbosity"] > 0:
                self.stdout.write("cases exist: no demo cases generated")
            return
        if options["count"] < 0 or options["days"] < 1:
            raise CommandError("--count must be 0 or more and --days 1 or more")
        try:
            with origin(Origin(via="command")):
                summary = generate_demo_cases(
                    count=options["count"],
                    days=options["days"],
                    seed=options["seed"],
                    workers=options["workers"],
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] > 0:
            self._print(summary)

    def _print(self, summary: dict) -> None:
        self.stdout.write(
            f"demo cases: {summary['cases']:,} cases, {summary['events']:,} events in "
            f"{summary['seconds']} s (planned in {summary['plan_seconds']} s)"
        )
        for title, key in (("state", "states"), ("deadline", "deadline_states")):
            counts = ", ".join(f"{k} {n:,}" for k, n in summary[key].items())
            self.stdout.write(f"  by {title}: {counts}")
        self.stdout.write(
            "  by source: " + ", ".join(f"{k} {n:,}" for k, n in summary["sources"].items())
        )
        if summary["failed"]:
            self.stderr.write(f"  {summary['failed']} cases stopped early, e.g.:")
            for line in summary["errors"]:
                self.stderr.write(f"    {line}")
