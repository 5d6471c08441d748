"""The writes of the organization (机构设置), one action per verb (see `accounts.oplog.action`).

The HTTP viewsets hand their validated serializer to the `do_save_*` actions, which save it
inside the action's transaction; `do_create_person` is the programmatic way (commands, scripts).
The demo organization (`accounts.demo`) is set-up data and is written directly.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import ProtectedError

from core.errors import Conflict

from . import permissions as perms
from . import services, throttle
from .models import Department, Person, Position, Role
from .oplog import action


def _saved(serializer) -> str:
    instance = serializer.instance
    return str(getattr(instance, "pk", "") or serializer.validated_data.get("key", "") or "new")


def _changes(serializer) -> dict:
    return {k: v for k, v in serializer.initial_data.items() if k != "password"}


def _delete(instance) -> None:
    try:
        instance.delete()
    except ProtectedError:
        raise Conflict(f"{instance} is still referenced (children or people)") from None


@action("departments.save", permission=perms.PEOPLE_MANAGE, target=_saved, details=_changes)
def do_save_department(scope, serializer) -> Department:
    """Gives the created or changed department (部门) its validated serializer describes."""
    return serializer.save()


@action("departments.delete", permission=perms.PEOPLE_MANAGE, target=lambda d: d.pk)
def do_delete_department(scope, department: Department) -> None:
    _delete(department)


@action("positions.save", permission=perms.PEOPLE_MANAGE, target=_saved, details=_changes)
def do_save_position(scope, serializer) -> Position:
    """Gives the created or changed position (岗位) its validated serializer describes."""
    return serializer.save()


@action("positions.delete", permission=perms.PEOPLE_MANAGE, target=lambda p: p.pk)
def do_delete_position(scope, position: Position) -> None:
    _delete(position)


@action("people.save", permission=perms.PEOPLE_MANAGE, target=_saved, details=_changes)
def do_save_person(scope, serializer) -> Person:
    """Gives the created or changed person its validated serializer describes."""
    return serializer.save()


@action(
    "people.create",
    permission=perms.PEOPLE_MANAGE,
    target=lambda username, password, **_: username,
    details=lambda username, password, **kw: {k: v for k, v in kw.items() if k != "validate"},
)
def do_create_person(scope, username: str, password: str | None, **fields) -> Person:
    """Gives a new person with its user, positions and areas (password checked by policy)."""
    return services.create_person(username, password, **fields)


@action("people.delete", permission=perms.PEOPLE_MANAGE, target=lambda p: p.pk)
def do_delete_person(scope, person: Person) -> None:
    """Deletes a person with its user account (its log rows keep the username). Nobody deletes
    themselves: the account would vanish under its own session, and the log row of the delete
    would name a user that no longer exists."""
    if scope.user is not None and person.user_id == scope.user.pk:
        raise Conflict("you cannot delete yourself; another administrator can", field="id")
    person.user.delete()


@action("roles.save", permission=perms.PEOPLE_MANAGE, target=_saved, details=_changes)
def do_save_role(scope, serializer) -> Role:
    """Gives the created or changed role (角色) its validated serializer describes."""
    return serializer.save()


@action("roles.delete", permission=perms.PEOPLE_MANAGE, target=lambda r: r.pk)
def do_delete_role(scope, role: Role) -> None:
    _delete(role)


@action(
    "roles.apply",
    permission=perms.PEOPLE_MANAGE,
    target=lambda role, people: role.key,
    details=lambda role, people: {"people": [p.pk for p in people]},
)
def do_apply_role(scope, role: Role, people: Iterable[Person]) -> list[Person]:
    """Gives the people after adding the role's positions and areas to each."""
    return services.apply_role(role, people)


@action("auth.password", permission=None, target=lambda user, password: user.get_username())
def do_change_password(scope, user, password: str) -> None:
    """Sets `user`'s password (checked by the policy), by the person themself or a holder of
    people.manage. Saving it revokes all the user's tokens (`accounts.signals`) and ends their
    sessions (Django checks each session against the password hash)."""
    if scope.user is None or scope.user.pk != user.pk:
        scope.require(perms.PEOPLE_MANAGE)
    services.check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


def _throttle_subject(username: str | None = None, client: str | None = None) -> str:
    return " at ".join(part for part in (username, client) if part)


@action(
    "auth.clear_throttle",
    permission=perms.PEOPLE_MANAGE,
    target=_throttle_subject,
    details=lambda username=None, client=None: {"username": username, "client": client},
)
def do_clear_throttle(
    scope, username: str | None = None, client: str | None = None
) -> list[throttle.Entry]:
    """Gives the sign-in counters cleared: those visible to `scope` that name `username`
    and/or `client` (see `accounts.throttle.matching`)."""
    chosen = throttle.matching(throttle.visible_to(scope), username, client)
    throttle.clear(chosen)
    return chosen
