"""Who acts in the demo history: the demo organization's people (`accounts.demo`) and their
scopes — the acceptor, the shift leader, the dispatcher, one handler per handling department
and one inspector per street."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts.models import Person
from accounts.scoping import Scope, scope_for_user

CENTRE = ("acceptor", "shiftleader", "dispatcher")


class DemoPeople:
    """The demo people by username, with their scopes (each read once)."""

    def __init__(self):
        users = get_user_model().objects.filter(is_active=True)
        wanted = users.filter(username__in=CENTRE) | users.filter(username__startswith="inspector-")
        self.users = {u.get_username(): u for u in wanted.order_by("username")}
        missing = [name for name in CENTRE if name not in self.users]
        self.inspectors = {
            name.removeprefix("inspector-"): name
            for name in self.users
            if name.startswith("inspector-")
        }
        if missing or not self.inspectors:
            raise ValueError(
                f"the demo people are missing ({', '.join(missing) or 'inspectors'}): "
                "run manage.py demo_accounts first"
            )
        handlers = Person.objects.filter(
            user__is_active=True, user__username__startswith="dept-", department__isnull=False
        ).select_related("user")
        self.handlers: dict[int, str] = {}
        for person in handlers.order_by("user__username"):
            self.handlers.setdefault(person.department_id, person.user.get_username())
            self.users[person.user.get_username()] = person.user
        self._scopes: dict[str, Scope] = {}

    def inspector(self, street_code: str) -> str:
        """The inspector of a street (the first one when the street has none)."""
        return self.inspectors.get(street_code) or next(iter(self.inspectors.values()))

    def handler(self, department_id: int | None) -> str:
        """The handler of a handling department."""
        found = self.handlers.get(department_id) if department_id else None
        if found is None:
            raise ValueError(f"no demo handler for department {department_id}")
        return found

    def user_id(self, username: str) -> int:
        return self.users[username].pk

    def scope(self, username: str) -> Scope:
        found = self._scopes.get(username)
        if found is None:
            found = self._scopes[username] = scope_for_user(self.users[username])
        return found
