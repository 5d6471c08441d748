"""SQL pieces that carry their own parameters (STYLE rule 10).

A `Part` is a psycopg2 `Composable` with the values its `%s` placeholders take, in order.
`bind(template, **names)` builds one from a template with named holes: a hole given a `Part`
(or anything with `.sql` and `.params`, such as `accounts.scoping.AreaCondition`) takes its SQL
and carries its values to the right place; a hole given a `Composable` (an `Identifier`, say)
takes it as is; any other value becomes a `%s` bound to that value. So no caller ever lines up
a list of positional parameters by hand, and a piece moved inside its template keeps its values.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from psycopg2 import sql

__all__ = ["Part", "bind", "join", "TRUE"]


@dataclass(frozen=True)
class Part:
    """An SQL piece and the values of its placeholders, in order."""

    sql: sql.Composable
    params: tuple = ()

    def __iter__(self):
        """Unpacks as ``(sql, params)`` for ``cursor.execute(*part)``."""
        return iter((self.sql, list(self.params)))


TRUE = Part(sql.SQL("TRUE"))


_PLACEHOLDER = sql.Placeholder()
_OPEN, _CLOSE = sql.SQL("("), sql.SQL(")")


@lru_cache(maxsize=512)
def _parse(template: str) -> tuple[tuple[sql.SQL | None, str | None], ...]:
    """Gives (literal SQL or None, hole name or None) pairs of a template, parsed once."""
    return tuple(
        (sql.SQL(text) if text else None, name)
        for text, name, _, _ in string.Formatter().parse(template)
    )


def bind(template: str, **names) -> Part:
    """Gives `template` with each ``{name}`` filled from `names` (see the module's docstring)."""
    pieces: list[sql.Composable] = []
    params: list = []
    for text, name in _parse(template):
        if text is not None:
            pieces.append(text)
        if name is None:
            continue
        value = names[name]
        if isinstance(value, sql.Composable):
            pieces.append(value)
        elif isinstance(value, Part) or (hasattr(value, "sql") and hasattr(value, "params")):
            pieces.append(value.sql)
            params.extend(value.params)
        else:
            pieces.append(_PLACEHOLDER)
            params.append(value)
    return Part(sql.Composed(pieces), tuple(params))


def join(parts: Iterable, separator: str = " AND ", wrap: bool = True) -> Part:
    """Gives the parts joined by `separator` (each in parentheses unless `wrap` is false),
    values in order; ``TRUE`` for none."""
    parts = list(parts)
    if not parts:
        return TRUE
    pieces = [sql.Composed([_OPEN, p.sql, _CLOSE]) if wrap else p.sql for p in parts]
    return Part(sql.SQL(separator).join(pieces), tuple(v for p in parts for v in p.params))
