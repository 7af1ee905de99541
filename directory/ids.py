"""Identifiers: HSDS ids are UUIDs; derived rows get stable ones so re-imports are idempotent."""

import uuid

NAMESPACE = uuid.UUID("6f1c9a52-3a55-4c1e-9a7e-2f3d8c0b5e11")


def stable_uuid(*parts: str) -> str:
    """The same UUID for the same parts, every time."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def new_uuid() -> str:
    """A fresh random UUID."""
    return str(uuid.uuid4())
