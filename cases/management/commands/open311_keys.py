"""`manage.py open311_keys create NAME --channel miniprogram|city_app|hotline|web [--quota N]`,
`open311_keys revoke NAME [--reason TEXT]`, `open311_keys list`: the Open311 API keys per
channel (`cases.open311.keys`). A new key is printed once; only its digest is stored."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.scoping import command_scope
from cases.open311.keys import do_create_api_key, do_revoke_api_key
from cases.open311.models import ApiKey, Channel
from core.context import Origin, origin
from core.errors import ApiError


class Command(BaseCommand):
    help = "Create, revoke and list the Open311 API keys of the public channels."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        create = sub.add_parser("create", help="make a key and print it (once)")
        create.add_argument("name")
        create.add_argument("--channel", required=True, choices=Channel.values)
        create.add_argument("--quota", type=int, default=None, help="requests per hour")
        revoke = sub.add_parser("revoke", help="revoke a key: it answers 403 from now on")
        revoke.add_argument("name")
        revoke.add_argument("--reason", default="")
        sub.add_parser("list", help="every key with its channel, quota and revocation")

    def handle(self, *args, **options):
        scope = command_scope("open311_keys")
        try:
            with origin(Origin(via="command")):
                if options["command"] == "create":
                    key, plain = do_create_api_key(
                        scope,
                        name=options["name"],
                        channel=options["channel"],
                        hourly_quota=options["quota"],
                    )
                    self.stdout.write(plain)
                    return
                if options["command"] == "revoke":
                    key = do_revoke_api_key(scope, name=options["name"], reason=options["reason"])
                    self.stdout.write(f"revoked {key.name} at {key.revoked_at:%Y-%m-%d %H:%M}")
                    return
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        for key in ApiKey.objects.all():
            revoked = (
                f"revoked {timezone.localtime(key.revoked_at):%Y-%m-%d %H:%M} {key.revoked_reason}"
                if key.revoked_at
                else "active"
            )
            self.stdout.write(
                f"{key.name}\t{key.channel}\t{key.prefix}…\t{key.hourly_quota}/h\t{revoked}"
            )
