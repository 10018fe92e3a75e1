"""Request rates, read from settings on every check so an environment (or a test) sets them."""
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str:
        return settings.CRM_API_THROTTLE_USER


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str:
        return settings.CRM_API_THROTTLE_ANON


class CountRefusalsMixin:
    """Count refused requests against the rate too.

    DRF checks permissions before throttles, so a caller guessing tokens would only ever get
    401s, never slowed down. Here a refused request is counted (and answered 429 once over).
    """

    def initial(self, request, *args, **kwargs) -> None:
        try:
            super().initial(request, *args, **kwargs)
        except (NotAuthenticated, AuthenticationFailed, PermissionDenied):
            self.check_throttles(request)
            raise
