"""Refreshes a person's area union when its admin areas or grids change (shape changes of the
areas are handled by database triggers, see migration 0003), and logs session sign-outs."""

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from accounts.areas import refresh_person_area
from accounts.models import Person


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
