"""Refreshes a person's area union when its admin areas or grids change (shape changes of the
areas are handled by database triggers, see migration 0003), logs session sign-outs, revokes a
user's bearer tokens when the password changes, and drops this process's cached sessions,
users, tokens and scopes (accounts/authcache.py) on any write they depend on."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts import authcache
from accounts.areas import refresh_person_area
from accounts.models import ApiToken, Department, Person, Position, Role

# Writes that change what a cached session, user, token or scope row says.
_SCOPE_MODELS = (settings.AUTH_USER_MODEL, Person, Position, Role, Department, ApiToken)
_SCOPE_LINKS = (
    Person.positions.through,
    Person.admin_areas.through,
    Person.grids.through,
    Position.layers.through,
    Role.positions.through,
)


def _invalidate(sender, **kwargs) -> None:
    authcache.invalidate()


for _model in _SCOPE_MODELS:
    post_save.connect(_invalidate, sender=_model, dispatch_uid=f"authcache-save-{_model}")
    post_delete.connect(_invalidate, sender=_model, dispatch_uid=f"authcache-delete-{_model}")
for _link in _SCOPE_LINKS:
    m2m_changed.connect(_invalidate, sender=_link, dispatch_uid=f"authcache-m2m-{_link}")


@receiver(m2m_changed, sender=Person.admin_areas.through)
@receiver(m2m_changed, sender=Person.grids.through)
def _areas_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        refresh_person_area(instance.pk)
    else:
        for person_id in pk_set or ():
            refresh_person_area(person_id)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    from accounts.authentication import log_login
    from accounts.models import LoginLog

    method = (
        LoginLog.Method.ADMIN if request.path.startswith("/admin/") else LoginLog.Method.SESSION
    )
    log_login(request, user.get_username(), LoginLog.Outcome.LOGOUT, method, user)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _password_changed(sender, instance, created, **kwargs) -> None:
    # Django keeps the new raw password in `_password` from set_password() until save() has
    # run (and clears it for a mere hash upgrade), so this is every password change: by the
    # person, through PATCH /people/{id}, the Django admin or `manage.py changepassword`.
    if created or getattr(instance, "_password", None) is None:
        return
    from accounts.authentication import revoke_tokens

    revoke_tokens(instance)
