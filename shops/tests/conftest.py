import pytest

from shops.platforms import register
from shops.tests.drivers import DRIVERS
from shops.tests.stub_platform import FakeStubAPI, StubPlatform

register(StubPlatform())


@pytest.fixture
def stub_api():
    with FakeStubAPI() as api:
        yield api


@pytest.fixture(params=sorted(DRIVERS))
def driver(request):
    """One platform's fake, driven through the connector's rules (shops/tests/drivers.py)."""
    started = DRIVERS[request.param]().start()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def fresh_token_cache():
    """The webhook door keeps token lookups per process: each test starts without them."""
    from shops import webhook_tokens

    webhook_tokens.forget()
    yield
    webhook_tokens.forget()
