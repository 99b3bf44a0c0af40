"""`manage.py revoke_tokens NAME...`: revoke every API token of these users."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from debate.actions import revoke_api_tokens


class Command(BaseCommand):
    help = "Revoke every API token of the named users (they log in again for a new one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="+", metavar="NAME")

    def handle(self, *args: Any, usernames: list[str], **options: Any) -> None:
        users = {user.get_username(): user for user in get_user_model().objects.filter(username__in=usernames)}
        missing = [name for name in usernames if name not in users]
        if missing:
            raise CommandError(f"no such user: {', '.join(missing)}")
        for name in usernames:
            revoked = revoke_api_tokens(user=users[name])
            self.stdout.write(f"Revoked {revoked} token(s) of {name}.")
