"""crm.wsgi's application with the bench platform registered (bench/shop_stub.py): what
bench/bench_shop_webhooks.py serves with gunicorn."""
from crm.wsgi import application  # noqa: F401 - served by gunicorn

import bench.shop_stub  # noqa: F401 - registers the bench platform
