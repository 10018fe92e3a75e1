import pytest

from .receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def second_receiver():
    with Receiver() as running:
        yield running
