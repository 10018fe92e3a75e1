"""The shop benchmarks' platform: the connector's stub platform (shops/tests/stub_platform.py)
under the key "benchshop", its page size from CRM_BENCH_SHOP_PAGE. Imported by the bench and
by the Celery worker it starts (`celery worker --include bench.shop_stub`)."""
import os

from shops.platforms import register
from shops.tests.stub_platform import StubPlatform


class BenchPlatform(StubPlatform):
    key = "benchshop"
    label = "Bench shop"
    page_size = int(os.environ.get("CRM_BENCH_SHOP_PAGE", "250"))


register(BenchPlatform())
