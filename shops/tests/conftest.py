import pytest

from shops.platforms import register
from shops.tests.stub_platform import FakeStubAPI, StubPlatform

register(StubPlatform())


@pytest.fixture
def stub_api():
    with FakeStubAPI() as api:
        yield api
