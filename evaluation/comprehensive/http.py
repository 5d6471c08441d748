"""The base of every comprehensive-evaluation endpoint: the caller must be signed in (401)
before anything of the request is read, and hold one of `permissions` when a view names them
(403) — so an anonymous or unentitled caller learns nothing from a body's validation."""

from __future__ import annotations

from rest_framework.views import APIView

from accounts.scoping import scope_for
from core.errors import Forbidden


class SignedInView(APIView):
    permissions: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        scope = scope_for(request)
        scope.require_signed_in()
        if self.permissions and not any(scope.has_perm(p) for p in self.permissions):
            raise Forbidden(f"your positions grant none of {', '.join(self.permissions)}")
