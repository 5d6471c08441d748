"""`manage.py seed_tiles LAYERS --zmin 10 --zmax 14 [--bbox minlon,minlat,maxlon,maxlat]`."""

from django.core.management.base import BaseCommand, CommandError

from accounts.scoping import command_scope
from core.context import Origin, origin
from core.errors import ApiError
from core.jobs import wait_for
from core.models import Job
from tiles.actions import do_seed_tiles


class Command(BaseCommand):
    help = "Queues a tile seeding job (预生成切片) on Celery and, with --wait, follows it."

    def add_arguments(self, parser):
        parser.add_argument("layers", help="a layer key or a comma list (one composite tile)")
        parser.add_argument("--zmin", type=int, required=True)
        parser.add_argument("--zmax", type=int, required=True)
        parser.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat (default: the world)")
        parser.add_argument("--wait", action="store_true", help="wait for the job and report")
        parser.add_argument("--timeout", type=float, default=3600, help="with --wait, seconds")
        parser.add_argument(
            "--user",
            default="",
            help="seed as this person (their layers and areas); default: the system actor "
            "command:seed_tiles, which sees every layer",
        )

    def handle(self, *args, **opts):
        bbox = None
        if opts["bbox"]:
            try:
                bbox = [float(v) for v in opts["bbox"].split(",")]
            except ValueError as exc:
                raise CommandError("--bbox takes four numbers") from exc
        try:
            with origin(Origin(via="command")):
                scope = command_scope("seed_tiles", opts["user"])
                job = do_seed_tiles(scope, opts["layers"], opts["zmin"], opts["zmax"], bbox)
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"job {job.id}: {job.rows_total} tiles queued")
        if not opts["wait"]:
            return
        try:
            job = wait_for(job, opts["timeout"], self._show)
        except TimeoutError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"job {job.id} {job.state}: {job.report} {job.errors or ''}")

    def _show(self, job: Job) -> None:
        self.stdout.write(f"  {job.state} {job.rows_done}/{job.rows_total}")
