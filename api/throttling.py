"""Request rates, read from settings on every check so an environment (or a test) sets them."""
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, PermissionDenied
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from crm.client_ip import client_key


class FixedWindowMixin:
    """One counter per caller and time window (an atomic INCR in Redis): the same small cost
    per request whatever the rate.

    DRF's own throttles keep a timestamp per request in one cached list that is read, trimmed
    and written back on every request: at an integration's rate (thousands a minute) that is
    tens of kilobytes pickled both ways per call. A fixed window may let up to twice the rate
    through across a window's edge; for protecting the service that is fine.
    """

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window = int(self.timer() // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return self._count(f"{self.key}:{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        if isinstance(self.cache, RedisCache):
            return self._count_in_redis(key)
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or its counter just expired)
            if self.cache.add(key, 1, self.duration + 1):
                return 1
            return self.cache.incr(key)  # another request created it meanwhile

    def _count_in_redis(self, key: str) -> int:
        """INCR and EXPIREAT in one round trip; the cache API's incr() takes two (EXISTS, then
        INCRBY) and add() a third for a window's first request. The window's end is a fixed
        instant, so setting it on every request changes nothing."""
        key = self.cache.make_and_validate_key(key)
        # Django's RedisCache keeps its redis-py client private; this is the documented way
        # to reach the server behind a key (RedisCacheClient.get_client).
        client = self.cache._cache.get_client(key, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expireat(key, int(self.window_ends_at) + 1)
        count, _expiry_set = pipeline.execute()
        return count

    def wait(self) -> float:
        return max(0.0, self.window_ends_at - self.timer())

    def get_ident(self, request) -> str:
        """Anonymous callers by address, read as the login lock-out reads it (DRF's own
        get_ident needs NUM_PROXIES kept in step with CRM_TRUSTED_PROXY_COUNT)."""
        return client_key(request)


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    def get_rate(self) -> str:
        return settings.CRM_API_THROTTLE_USER


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
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
