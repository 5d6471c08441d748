from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts (机构设置): departments, positions, people, roles, sign-in, scoping and logs."""

    name = "accounts"
    label = "accounts"
    verbose_name = "机构与权限"

    def ready(self) -> None:
        from accounts import checks, schema, signals  # noqa: F401  (registers them)
