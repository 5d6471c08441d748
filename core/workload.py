"""Open work per user (忙碌, busy): a registry that apps holding work fill, for apps that show it.

An app that assigns work to people (cases: verification and check tasks) registers an SQL
expression counting a user's open work, `register_open_work(name, template)`, where the template
holds ``{user}`` for the user id column of the reading query. An app that shows people's status
(tracking: online / busy / offline) asks `open_work_count(user_column)` for the sum of every
registered count as one SQL expression, and so counts the work in the same query and the same
snapshot as its own rows, without importing the app that owns the work (the import contracts
keep tracking and cases apart). With nothing registered the count is 0.
"""

from __future__ import annotations

from psycopg2 import sql

from .sqlparts import Part, bind

_open_work: dict[str, str] = {}


def register_open_work(name: str, template: str) -> None:
    """Registers (or replaces) `name`'s count of a user's open work: an SQL expression of an
    integer, with ``{user}`` where the user id column goes."""
    if "{user}" not in template:
        raise ValueError("the template must hold {user}")
    _open_work[name] = template


def registered() -> list[str]:
    """Gives the names of the registered counts."""
    return sorted(_open_work)


def open_work_count(user_column: sql.Composable) -> Part:
    """Gives an SQL expression of the user's open work (0 for no user or nothing registered)."""
    if not _open_work:
        return Part(sql.SQL("0"))
    terms = " + ".join(f"COALESCE(({_open_work[name]}), 0)" for name in sorted(_open_work))
    return bind(f"({terms})", user=user_column)
