"""Accounts: users, roles, organisation memberships, API tokens and one-time links."""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from directory.i18n import ExplainedError
from directory.models.services import now_iso

ROLES = ("admin", "moderator", "editor", "partner")
LINK_PURPOSES = ("invite", "reset")


class AccountError(ExplainedError, ValueError):
    """A user or membership that cannot be created as asked (English text; a page translates
    its msgid with its values)."""


@dataclass(frozen=True)
class User:
    """A signed-in person; also what Flask-Login keeps as current_user (duck-typed)."""

    id: int
    email: str
    role: str
    active: bool = True
    auth_version: int = 1
    org_ids: tuple[str, ...] = field(default_factory=tuple)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Deactivated accounts cannot sign in."""
        return self.active

    def get_id(self) -> str:
        """The session id: changes when the password does, which ends older sessions."""
        return f"{self.id}:{self.auth_version}"

    @property
    def is_admin(self) -> bool:
        """Admins manage users and do everything a moderator does."""
        return self.role == "admin"

    @property
    def can_review(self) -> bool:
        """Moderators and admins approve, reject, publish, restore and verify."""
        return self.role in ("admin", "moderator")

    def can_edit(self, organization_id: str | None) -> bool:
        """May propose changes to this organisation's services."""
        if self.can_review:
            return True
        return self.role == "editor" and organization_id in self.org_ids

    def can_see_confidential(self, organization_id: str | None) -> bool:
        """May see a confidential street address of this organisation's services."""
        return self.role in ("admin", "moderator", "partner") or self.can_edit(organization_id)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _user(db: Database, row) -> User:
    org_ids = tuple(
        r["organization_id"]
        for r in db.query(
            "select organization_id from membership where user_id = ? order by organization_id",
            [row["id"]],
        )
    )
    return User(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        active=bool(row["active"]),
        auth_version=row["auth_version"],
        org_ids=org_ids,
    )


def get_user(db: Database, user_id: int) -> User | None:
    """One user by id, or None."""
    row = db.execute("select * from user where id = ?", [user_id]).fetchone()
    return _user(db, row) if row else None


def get_by_email(db: Database, email: str) -> User | None:
    """One user by email (case-insensitive), or None."""
    row = db.execute("select * from user where email = ?", [email.strip()]).fetchone()
    return _user(db, row) if row else None


def password_hash(db: Database, user_id: int) -> str | None:
    """The stored argon2 hash (None for an invited user who has not set a password yet)."""
    row = db.execute("select password_hash from user where id = ?", [user_id]).fetchone()
    return row["password_hash"] if row else None


def list_users(db: Database) -> list[User]:
    """Everyone, admins first."""
    rows = db.query(
        "select * from user order by case role when 'admin' then 0 when 'moderator' then 1 "
        "when 'editor' then 2 else 3 end, email"
    )
    return [_user(db, r) for r in list(rows)]


def create_user(
    db: Database,
    email: str,
    role: str,
    *,
    password_hash: str | None = None,
    org_ids: list[str] | tuple[str, ...] = (),
) -> User:
    """Create an account (raise AccountError for a bad role, email or organisation)."""
    email = email.strip()
    if role not in ROLES:
        raise AccountError("role must be one of %(roles)s", roles=", ".join(ROLES))
    if "@" not in email or len(email) > 254:
        raise AccountError("email does not look like an email address")
    if get_by_email(db, email):
        raise AccountError("a user with the email %(email)s already exists", email=email)
    if role == "editor" and not org_ids:
        raise AccountError("an editor needs at least one organisation (--org)")
    for org_id in org_ids:
        if not db.execute("select 1 from organization where id = ?", [org_id]).fetchone():
            raise AccountError("no organisation with id %(id)s", id=org_id)
    cursor = db.execute(
        "insert into user (email, password_hash, role, created_at) values (?, ?, ?, ?)",
        [email, password_hash, role, now_iso()],
    )
    user_id = cursor.lastrowid
    for org_id in org_ids:
        db.execute(
            "insert into membership (user_id, organization_id) values (?, ?)", [user_id, org_id]
        )
    return get_user(db, user_id)


def update_user(
    db: Database,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    org_ids: list[str] | None = None,
) -> User:
    """Change a user's role, active flag or organisations; deactivating ends their sessions."""
    if role is not None:
        if role not in ROLES:
            raise AccountError("role must be one of %(roles)s", roles=", ".join(ROLES))
        db.execute("update user set role = ? where id = ?", [role, user_id])
    if active is not None:
        db.execute(
            "update user set active = ?, auth_version = auth_version + 1 where id = ?",
            [1 if active else 0, user_id],
        )
    if org_ids is not None:
        for org_id in org_ids:
            if not db.execute("select 1 from organization where id = ?", [org_id]).fetchone():
                raise AccountError("no organisation with id %(id)s", id=org_id)
        db.execute("delete from membership where user_id = ?", [user_id])
        for org_id in org_ids:
            db.execute(
                "insert into membership (user_id, organization_id) values (?, ?)",
                [user_id, org_id],
            )
    return get_user(db, user_id)


def set_password_hash(db: Database, user_id: int, new_hash: str) -> None:
    """Store a new password hash and end every existing session of this user."""
    db.execute(
        "update user set password_hash = ?, auth_version = auth_version + 1 where id = ?",
        [new_hash, user_id],
    )


def create_token(db: Database, user_id: int) -> str:
    """A new API token for the user; only its hash is stored, so show it once."""
    raw = secrets.token_urlsafe(32)
    db.execute(
        "insert into api_token (user_id, token_hash, created_at) values (?, ?, ?)",
        [user_id, _hash_token(raw), now_iso()],
    )
    return raw


def revoke_tokens(db: Database, user_id: int) -> int:
    """Revoke every API token of the user; how many were revoked."""
    return db.execute(
        "update api_token set revoked = 1 where user_id = ? and revoked = 0", [user_id]
    ).rowcount


def user_for_token(db: Database, raw: str) -> User | None:
    """The active user an API token belongs to, or None."""
    row = db.execute(
        "select u.* from api_token t join user u on u.id = t.user_id "
        "where t.token_hash = ? and t.revoked = 0 and u.active = 1",
        [_hash_token(raw)],
    ).fetchone()
    return _user(db, row) if row else None


def create_link(
    db: Database, user_id: int, purpose: str, *, created_by: int | None, hours: int = 72
) -> str:
    """A one-time invitation or password-reset token that expires; only its hash is stored."""
    if purpose not in LINK_PURPOSES:
        raise AccountError("purpose must be one of %(purposes)s", purposes=str(LINK_PURPOSES))
    raw = secrets.token_urlsafe(32)
    now = datetime.now(UTC).replace(microsecond=0)
    db.execute(
        "insert into user_link (user_id, purpose, token_hash, created_by, created_at, expires_at)"
        " values (?, ?, ?, ?, ?, ?)",
        [
            user_id,
            purpose,
            _hash_token(raw),
            created_by,
            now.isoformat(),
            (now + timedelta(hours=hours)).isoformat(),
        ],
    )
    return raw


def check_link(db: Database, raw: str) -> tuple[User, dict] | None:
    """The user and link row for a valid, unused, unexpired token; None otherwise."""
    row = db.execute("select * from user_link where token_hash = ?", [_hash_token(raw)]).fetchone()
    if row is None or row["used_at"] is not None:
        return None
    if datetime.fromisoformat(row["expires_at"]) <= datetime.now(UTC):
        return None
    user = get_user(db, row["user_id"])
    if user is None or not user.active:
        return None
    return user, dict(row)


def use_link(db: Database, link_id: int) -> None:
    """Mark a link used (call in the transaction that sets the password)."""
    db.execute("update user_link set used_at = ? where id = ?", [now_iso(), link_id])


def organizations_of(db: Database, user: User) -> list[dict]:
    """The organisations an editor belongs to (all of them for moderators and admins)."""
    if user.can_review:
        return [dict(r) for r in db.query("select id, name from organization order by name")]
    if not user.org_ids:
        return []
    marks = ", ".join("?" for _ in user.org_ids)
    return [
        dict(r)
        for r in db.query(
            f"select id, name from organization where id in ({marks}) order by name",
            list(user.org_ids),
        )
    ]


def all_organizations(db: Database) -> list[dict]:
    """Every organisation (id, name), for the admin's forms."""
    return [dict(r) for r in db.query("select id, name from organization order by name")]


def save_organization(
    db: Database,
    name: str,
    *,
    organization_id: str | None = None,
    description: str = "",
    website: str | None = None,
    email: str | None = None,
) -> str:
    """Create (no id) or update an organisation; its id. New ids follow the importers' scheme,
    so importing the same organisation later finds it."""
    from directory.ids import stable_uuid

    name = (name or "").strip()
    if not name:
        raise AccountError("an organisation needs a name")
    if organization_id is None:
        organization_id = stable_uuid("organization", name)
        if db.execute("select 1 from organization where id = ?", [organization_id]).fetchone():
            raise AccountError("an organisation called %(name)s already exists", name=name)
    elif not db.execute("select 1 from organization where id = ?", [organization_id]).fetchone():
        raise AccountError("no organisation with id %(id)s", id=organization_id)
    db["organization"].upsert(
        {
            "id": organization_id,
            "name": name,
            "description": description or "",
            "website": website or None,
            "email": email or None,
            "last_modified": now_iso(),
        },
        pk="id",
    )
    from directory import search_index

    # The organisation's name is in its services' search text and listings: index them again.
    services = [r[0] for r in db.execute(
        "select id from service where organization_id = ?", [organization_id]
    )]  # fmt: skip
    search_index.index_services(db, services)
    return organization_id


def get_organization(db: Database, organization_id: str) -> dict | None:
    """An organisation's own fields, or None."""
    row = db.execute(
        "select id, name, description, website, email from organization where id = ?",
        [organization_id],
    ).fetchone()
    return dict(row) if row else None
