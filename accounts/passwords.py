"""Password rules from the login policy (密码长度限制, 字符类别) as a Django password validator."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError

from accounts.models import LoginPolicy

CLASS_LABELS = {"lower": "小写字母", "upper": "大写字母", "digit": "数字", "symbol": "符号"}


def character_classes(password: str) -> set[str]:
    """Gives the character classes ("lower", "upper", "digit", "symbol") present in a password.

    Letters without case (Chinese characters, for instance) count as "symbol"."""
    found: set[str] = set()
    for ch in password:
        if ch.isdigit():
            found.add("digit")
        elif ch.islower():
            found.add("lower")
        elif ch.isupper():
            found.add("upper")
        elif not ch.isspace() or ch in string.punctuation:
            found.add("symbol")
    return found


def policy_problems(password: str, policy: LoginPolicy) -> list[str]:
    """Gives the ways `password` breaks `policy` (empty when it complies)."""
    problems = []
    if len(password) < policy.min_password_length:
        problems.append(f"password must have at least {policy.min_password_length} characters")
    present = character_classes(password)
    missing = [c for c in policy.required_classes if c in CLASS_LABELS and c not in present]
    if missing:
        problems.append("password must contain: " + ", ".join(missing))
    if len(present) < policy.min_classes:
        problems.append(
            f"password must mix at least {policy.min_classes} of lower, upper, digit, symbol"
        )
    return problems


class PolicyPasswordValidator:
    """Validates passwords against `LoginPolicy.current()` (length and character classes)."""

    def validate(self, password: str, user=None) -> None:
        problems = policy_problems(password, LoginPolicy.current())
        if problems:
            raise ValidationError(problems, code="password_policy")

    def get_help_text(self) -> str:
        policy = LoginPolicy.current()
        return (
            f"At least {policy.min_password_length} characters, mixing at least "
            f"{policy.min_classes} of lower, upper, digit, symbol."
        )
