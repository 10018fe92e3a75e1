"""Gunicorn settings for the CRM web service (deploy/systemd/crm-web.service).

Under systemd, crm-web.socket owns the listening socket and hands it to gunicorn, so a restart
queues requests instead of refusing them; `bind` below is the same path and applies when gunicorn
is started by hand (GUNICORN_BIND). To listen elsewhere under systemd, change ListenStream= in
crm-web.socket. Tune from the environment file rather than editing this file: WEB_CONCURRENCY,
FORWARDED_ALLOW_IPS, GUNICORN_LOG_LEVEL.
"""
import multiprocessing
import os

wsgi_app = "crm.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "unix:/run/crm-web.sock")]

# The classic (2 x cores + 1), capped: each worker is a full Django process (~100 MB).
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
# nginx buffers requests and responses, so plain sync workers never wait on slow clients.
worker_class = "sync"
timeout = 60
# Worker heartbeat files in memory: on a disk-backed /tmp a slow disk can get workers killed.
worker_tmp_dir = "/dev/shm"
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow without bound; jitter avoids all
# workers restarting at once.
max_requests = 1000
max_requests_jitter = 100
# Not preloaded: `systemctl reload crm-web` (HUP) then starts workers on the new code.
preload_app = False

# X-Forwarded-Proto is trusted only from loopback (and always over the unix socket): nginx.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# stdout/stderr go to the journal: `journalctl -u crm-web`.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "crm-web"
