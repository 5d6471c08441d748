"""manage.py case_event_facts: check or rebuild the per-case projection of the event facts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evaluation import case_event_facts


class Command(BaseCommand):
    help = (
        "Compare the per-case event facts the indicators read with the case events (--check, "
        "the default: exit status 1 when any case differs), or write them again from the "
        "events (--rebuild)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, rebuild=False, check=False, verbosity=1, **options):
        if rebuild:
            rows = case_event_facts.rebuild()
            self.stdout.write(f"rebuilt the event facts of {rows} cases")
        if check or not rebuild:
            count, ids = case_event_facts.differences()
            if count:
                listed = ", ".join(str(i) for i in ids)
                raise CommandError(f"{count} cases differ from their events (e.g. {listed})")
            self.stdout.write("the event facts agree with the events")
