"""Organization actions: create and change people, apply roles, explain a person's permissions."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import permissions as perms
from accounts.areas import refresh_person_area, set_person_areas
from accounts.models import Person, Role
from core.errors import BadInput, Conflict


def check_password(password: str, user=None) -> None:
    """Raises `BadInput` (field "password") when `password` breaks the password validators."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise BadInput("; ".join(exc.messages), field="password") from None


@transaction.atomic
def create_person(
    username: str,
    password: str | None,
    *,
    positions: Iterable = (),
    admin_areas: Iterable = (),
    grids: Iterable = (),
    validate: bool = True,
    is_superuser: bool = False,
    **fields,
) -> Person:
    """Gives a new person with its Django user (password checked against the policy)."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise Conflict(f"username {username!r} is taken", field="username")
    user = user_model(username=username, is_superuser=is_superuser, is_staff=is_superuser)
    if password:
        if validate:
            check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    person = Person.objects.create(user=user, **fields)
    person.positions.set(list(positions))
    return set_person_areas(person, admin_areas, grids)


@transaction.atomic
def apply_role(role: Role, people: Iterable[Person]) -> list[Person]:
    """Gives the people after adding the role's positions and areas to each (角色批量配置).

    Adds, never removes: a person keeps positions and areas it already had.
    """
    positions = list(role.positions.all())
    areas = list(role.admin_areas.all())
    grids = list(role.grids.all())
    changed = []
    for person in people:
        person.positions.add(*positions)
        person.admin_areas.add(*areas)
        person.grids.add(*grids)
        refresh_person_area(person.pk)
        changed.append(person)
    return changed


def effective_permissions(person: Person) -> dict:
    """Gives one person's effective permissions (查看人员权限), each with the positions granting it,
    and its layer grants."""
    sees_everything = person.user.is_superuser
    granted: dict[str, list[str]] = {}
    layers: dict[str, list[str]] = {}
    all_layers_from: list[str] = []
    for position in person.positions.all().prefetch_related("layers"):
        for name in position.permissions:
            granted.setdefault(name, []).append(position.key)
        if position.all_layers:
            all_layers_from.append(position.key)
        for layer in position.layers.all():
            layers.setdefault(layer.key, []).append(position.key)
    if perms.SYSTEM_ADMIN in granted:
        sees_everything = True
    names = list(perms.ALL_PERMISSIONS) if sees_everything else sorted(granted)
    return {
        "person": person.pk,
        "username": person.user.get_username(),
        "sees_everything": sees_everything,
        "permissions": [
            {
                "name": name,
                "label": perms.ALL_PERMISSIONS.get(name, name),
                "granted_by": granted.get(name, ["superuser"] if sees_everything else []),
            }
            for name in names
        ],
        "all_layers": sees_everything or bool(all_layers_from),
        "layers": [{"key": k, "granted_by": v} for k, v in sorted(layers.items())],
        "has_area": bool(person.area_digest),
    }
