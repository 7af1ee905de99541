"""Configuration: safe defaults, overridden by instance/config.py or DIRECTORY_* environment."""

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev"
# Keys seen in tutorials and templates: as good as none.
WEAK_SECRET_KEYS = {"", DEV_SECRET_KEY, "secret", "changeme", "change-me", "change me",
                    "you-will-never-guess", "test", "testing", "secret-key"}  # fmt: skip
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"


def default_config(instance_path: str) -> dict:
    """Defaults for development; production must set SECRET_KEY (see README)."""
    return {
        "SECRET_KEY": DEV_SECRET_KEY,
        "DATABASE": os.environ.get("DIRECTORY_DATABASE")
        or str(Path(instance_path) / "directory.sqlite"),
        "DATA_DIR": str(PROJECT_ROOT / "data"),
        "DEFAULT_TIMEZONE": "Asia/Manila",
        "DEFAULT_COUNTRY": "PH",
        "PER_PAGE_DEFAULT": 20,
        "PER_PAGE_MAX": 100,
        "QUICK_EXIT_URL": "https://www.google.com/search?q=weather+today",
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Any one SQL statement run for a web request is stopped after this long (0: no limit).
        "SQL_TIME_LIMIT_MS": 1000,
        # /data downloads of up to this many services are built in the request that asks
        # (seconds); more are built in the background while requests get 503 + Retry-After
        "DOWNLOAD_BUILD_IN_REQUEST_MAX": 5000,
        "DOWNLOADS_DIR": None,  # None: a folder beside the database (downloads.folder_for)
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Manila",
        "LANGUAGES": ["en", "fil", "ceb"],
        "STALE_AFTER_DAYS": 365,
    }


def production_problems(config) -> list[str]:
    """Why this configuration must not serve the public (an empty list when it may)."""
    problems = []
    if config.get("DEBUG"):
        problems.append(
            "debug is on (FLASK_DEBUG or `directory --debug`): its debugger runs code for "
            "anyone; use `directory serve --debug` only on your own machine"
        )
    key = config.get("SECRET_KEY")
    if (
        not isinstance(key, str | bytes)
        or key in WEAK_SECRET_KEYS
        or len(key) < MIN_SECRET_KEY_LENGTH
    ):
        problems.append(
            f"SECRET_KEY is missing or weak: set DIRECTORY_SECRET_KEY to at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return problems


def instance_secret_key(instance_path: str) -> str:
    """A random key kept in instance/secret_key (owner-only), created on first use."""
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
