"""`manage.py train_recommend [--if-missing] [--corpus-only]`: trains the category
recommendation's model (`cases.recommend`) and writes it as the next version."""

from django.conf import settings
from django.core.management.base import BaseCommand

from cases import recommend


class Command(BaseCommand):
    help = "Train the category recommendation's model on the case history (or the corpus)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when a model exists"
        )
        parser.add_argument(
            "--corpus-only",
            action="store_true",
            help="train on the generated corpus alone, not the case history",
        )

    def handle(self, *args, **options):
        if options["if_missing"] and recommend.latest_path() is not None:
            if options["verbosity"] > 0:
                self.stdout.write("a recommendation model exists: none trained")
            return
        if options["corpus_only"]:
            rows = recommend.corpus(settings.CASES_RECOMMEND_CORPUS)
            meta = recommend.train(rows, source="corpus")
        else:
            meta = recommend.train()
        if options["verbosity"] > 0:
            self.stdout.write(
                f"model v{meta['version']}: {meta['samples']} descriptions ({meta['source']}), "
                f"{meta['classes']} classes, {meta['seconds']} s → {meta['path']}"
            )
