"""gunicorn settings for the web process: `gunicorn -c deploy/gunicorn.conf.py run:app` (scripts/serve does this).

Every value can be changed from the environment without editing this file.
"""
import multiprocessing
import os

# where to listen: behind nginx on the same machine keep 127.0.0.1; on a web host of a cluster, its own address
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")

# (2 × cores) + 1 workers by default: requests are short and bound by PostgreSQL; long work (big imports and
# exports) goes to Celery. Each worker holds the app (~150-250 MB with the shipped registers): lower
# WEB_CONCURRENCY on a small machine.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# gthread, not sync: the cloud verification's signalling WebSocket (flask-sock over simple-websocket) holds one
# thread for the length of a call, which a sync worker cannot spare. Each party of a call takes one thread of one
# worker; the rooms are shared by every worker through Redis (VIDEO_SIGNAL_REDIS_URL, REDIS_URL by default), so
# workers × WEB_THREADS bounds the open calls × 2 plus the ordinary requests being served.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
# a gthread worker accepts up to worker_connections sockets whatever its free threads: a worker whose threads all
# hold calls would queue a new party's socket for ever while another worker idles. Accept only what can be served.
worker_connections = threads
# an inline export (up to EXPORT_INLINE_ROWS rows) or an upload of a large workbook must finish within this
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# recycle workers now and then so that a slow leak cannot grow for months; jitter avoids all restarting at once
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# uploads go through gunicorn's temporary buffers: keep them in memory-backed /dev/shm when present
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# logs to stdout/stderr (systemd's journal or the container runtime keeps them); the access line ends with the
# request id the app sent back, so it can be matched with the app's own lines
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = ('%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" request_id=%({x-request-id}o)s')

# the client address is worked out by the app from TRUSTED_PROXIES (werkzeug's ProxyFix); gunicorn itself
# believes X-Forwarded-* only from these addresses
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "safety-web"
