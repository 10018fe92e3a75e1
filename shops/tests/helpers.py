"""Shared steps of the connector's rule tests."""
from django.test import Client

from shops.models import Store, WebhookDelivery
from shops.services.deliveries import delivery_process, delivery_receive
from shops.services.sync import sync_job_run, sync_start


class _Headers(dict):
    def get(self, key, default=None):  # case-insensitive, as request.headers
        for name, value in self.items():
            if name.lower() == key.lower():
                return value
        return default


def deliver(store: Store, headers: dict[str, str], body: bytes) -> WebhookDelivery:
    """A delivery as the door stores it, then processed as the worker does."""
    platform = store.platform_impl
    headers = _Headers(headers)
    platform.verify_webhook(store.access(), headers, body)
    delivery, _created = delivery_receive(store, platform.delivery_meta(headers), body)
    delivery_process(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def post(client: Client, store: Store, headers: dict[str, str], body: bytes, driver):
    return client.post(f"/shops/webhooks/{store.webhook_token}/", data=body,
                       content_type="application/json", **driver.wsgi_headers(headers))


def run_job(store: Store, kind: str):
    job = sync_start(store=store, kind=kind)
    sync_job_run(job.pk)
    job.refresh_from_db()
    return job
