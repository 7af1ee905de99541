"""Configuration: safe defaults, overridden by instance/config.py or DIRECTORY_* environment."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_config(instance_path: str) -> dict:
    """Defaults for development; production must set SECRET_KEY (see README)."""
    return {
        "SECRET_KEY": "dev",
        "DATABASE": os.environ.get("DIRECTORY_DATABASE")
        or str(Path(instance_path) / "directory.sqlite"),
        "DATA_DIR": str(PROJECT_ROOT / "data"),
        "DEFAULT_TIMEZONE": "Asia/Manila",
        "DEFAULT_COUNTRY": "PH",
        "PER_PAGE_DEFAULT": 20,
        "PER_PAGE_MAX": 100,
        "QUICK_EXIT_URL": "https://www.google.com/search?q=weather+today",
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Manila",
        "LANGUAGES": ["en", "fil", "ceb"],
        "STALE_AFTER_DAYS": 365,
    }
