"""A workaround for a kombu bug that stops a Celery worker for good when Redis goes away.

kombu 5.7.0 (and every release back to 3.0, kombu issue #582): when the connection to Redis
drops while a late-acknowledged task is running, the worker closes the broken connection and
its channel tries to put the unacknowledged message back in Redis. The transport has already
forgotten its connection details by then, so the channel fails with
`AttributeError: 'NoneType' object has no attribute 'hostname'`; the error is not one of the
connection errors the worker ignores while closing, and the worker's main process exits
("Unrecoverable error"). Under honcho or a plain `celery worker` nothing restarts it and
sending stops until someone notices.

The patch: when the transport is detached there is nothing to put the message back *into*,
so the channel skips that step, logs it and lets the worker reconnect as it does after any
other connection loss. Nothing is lost by skipping: the message is still in Redis's unacked
set (if Redis kept it), where kombu restores it after the visibility timeout; and our
late-acknowledged tasks are backed by database state that the periodic safety nets
(campaigns.send_due, webhooks.send_due) pick up again within a minute.
"""
import logging

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)

_original_restore_unacked = kombu_redis.QoS.restore_unacked


def _restore_unacked_unless_detached(self, client=None):
    transport = getattr(self.channel, "connection", None)
    if client is None and (transport is None or getattr(transport, "client", None) is None):
        if self._delivered:
            logger.warning("The broker connection is gone: %d unacknowledged message(s) left "
                           "for the broker to restore after its visibility timeout",
                           len(self._delivered))
        self._delivered.clear()
        return None
    return _original_restore_unacked(self, client)


def apply() -> None:
    """Install the workaround once (crm.celery calls it when the Celery app is created)."""
    if kombu_redis.QoS.restore_unacked is not _restore_unacked_unless_detached:
        kombu_redis.QoS.restore_unacked = _restore_unacked_unless_detached
