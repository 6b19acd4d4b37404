"""Default configuration: non-secret settings, overridden by instance/config.py and FLASK_* variables."""

from __future__ import annotations

import datetime as dt


class DefaultConfig:
    """Committed defaults; secrets and per-installation paths come from the instance folder."""

    # SECRET_KEY is deliberately absent: create_app reads or generates instance/secret_key.
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite:///<instance>/giantstep.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # The embedded SQLite database: WAL journal and a busy timeout, so several worker processes share it.
    SQLITE_JOURNAL_MODE = "WAL"
    SQLITE_BUSY_TIMEOUT_MS = 10_000

    # Engine folders (None: the GIANTSTEP_* environment variable of the same name, else the repository's data/,
    # data/rules and models/); imported cohorts and retrained models live in the app's instance folder.
    GIANTSTEP_DATA_DIR = None
    GIANTSTEP_RULES_DIR = None
    GIANTSTEP_MODELS_DIR = None

    # Request limits: forms are small; an XLSX/CSV upload for batch work stays under this.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    MAX_FORM_PARTS = 400

    # Cookies: HttpOnly and SameSite everywhere; Secure whenever the request came over HTTPS
    # ("auto", see security.AutoSecureSessionInterface), or always with SESSION_COOKIE_SECURE = True.
    SESSION_COOKIE_SECURE = "auto"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "giantstep_session"
    # A login lasts 12 hours at most (server-side row and cookie), then the consultant logs in again.
    # FLASK_PERMANENT_SESSION_LIFETIME takes seconds.
    PERMANENT_SESSION_LIFETIME = dt.timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    LANG_COOKIE_NAME = "giantstep_lang"
    LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

    # CSRF: every POST; a token lives as long as the session, so a long form is not lost after an hour.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    # Languages: Chinese first.
    LANGUAGES = ("zh", "en")
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    # Number of reverse proxies in front of the app (0: none); set it so HTTPS and client addresses are seen.
    PROXY_COUNT = 0

    # Rate limits: counted in <instance>/ratelimits.sqlite, shared by the worker processes of one machine
    # (None); "redis://host:6379/0" to share them between machines; "memory://" for one process.
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"  # per address
    LOGIN_ACCOUNT_RATE_LIMIT = "5 per minute;20 per hour"  # failed logins per account, from any address
    REGISTER_RATE_LIMIT = "20 per hour"
    API_RATE_LIMIT = "120 per minute"
    PDF_RATE_LIMIT = "6 per minute;60 per hour"  # anonymous PDF reports (each costs about 0.2 s of CPU)

    # Batch jobs (webapp/web/jobs.py): upload limit, and the queue (webapp/web/jobqueue.py, Huey). Unset
    # JOB_QUEUE_URL: an SQLite file in the instance folder, consumed by `giantstep serve` itself; "redis://host:6379/0"
    # to share the queue with `giantstep worker` processes. JOB_QUEUE_WORKERS: consumer threads `giantstep serve`
    # starts (0: jobs run only in `giantstep worker`). A job whose heartbeat is older than JOB_STALE_AFTER seconds
    # was interrupted: it is run again, or failed after JOB_MAX_ATTEMPTS tries.
    BATCH_MAX_UPLOAD = 50 * 1024 * 1024
    JOB_QUEUE_URL = None
    JOB_QUEUE_IMMEDIATE = False
    JOB_QUEUE_WORKERS = 1
    JOB_HEARTBEAT = 5
    JOB_STALE_AFTER = 60
    JOB_MAX_ATTEMPTS = 2

    # Content security policy: only the app's own files; no inline script or style, no CDN.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
