"""The `directory` command: a Flask CLI group, each command a thin shell over the Python API."""

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app():
    from directory import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Survivor-support service directory.

    DIRECTORY_DATABASE points at the SQLite file (default: instance/directory.sqlite).
    """


@main.command("serve")
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="5000"
)
@click.option("--workers", default=2, type=int, show_default=True, help="gunicorn worker processes")
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger")
@with_appcontext
def serve_command(host: str, port: int, workers: int, debug: bool) -> None:
    """Serve the directory (gunicorn; --debug for the development server).

    Example: directory serve --host 0.0.0.0 --port 8000
    """
    app = current_app._get_current_object()
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from directory.config import production_problems
    from directory.server import run_gunicorn

    if problems := production_problems(app.config):
        raise click.ClickException("refusing to serve: " + "; ".join(problems))
    run_gunicorn(app, host=host, port=port, workers=workers)


@main.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="validate and report; change nothing")
@click.option(
    "--skip-invalid", is_flag=True, help="import the valid services, list the invalid ones"
)
@with_appcontext
def load_command(path: Path, dry_run: bool, skip_invalid: bool) -> None:
    """Import listings: HSDS JSON, an HSDS data package (folder or .zip) or the flat CSV.

    All or nothing: every problem is reported with its file, line or record, and field.

    Example: directory load listings.csv --dry-run
    """
    from directory.db import get_db
    from directory.importers import ImportFailed
    from directory.importers.load import load_file

    try:
        report = load_file(get_db(), path, dry_run=dry_run, skip_invalid=skip_invalid)
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"Nothing was imported: {len(exc.problems)} problem(s).", err=True)
        sys.exit(1)
    click.echo(str(report))


@main.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hsds", "json", "csv"]),
    required=True,
    help="hsds: data package (a folder, or PATH.zip); json: list of services; csv: flat CSV",
)
@click.option(
    "--include-confidential",
    is_flag=True,
    help="include confidential (shelter) addresses: for an admin's own copy, never to publish",
)
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def export_command(fmt: str, include_confidential: bool, path: Path) -> None:
    """Export every listing (confidential addresses left out unless asked for).

    Example: directory export --format hsds listings-hsds.zip
    """
    from directory.db import get_db
    from directory.exporters import export

    click.echo(str(export(get_db(), path, fmt, include_confidential=include_confidential)))


@main.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="overwrite an existing backup file")
@with_appcontext
def backup_command(path: Path, force: bool) -> None:
    """Copy the live database to PATH (safe while the server runs).

    Example: directory backup /var/backups/directory/$(date +%F).sqlite
    """
    from directory.backup import BackupError, backup

    try:
        info = backup(current_app.config["DATABASE"], path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path}: {info['services']} service(s), {info['bytes']} bytes.")


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace the current database")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Replace the database with the backup at PATH (refuses without --force).

    Example: directory restore /var/backups/directory/2026-11-29.sqlite --force
    """
    from directory.backup import BackupError, restore

    try:
        info = restore(path, current_app.config["DATABASE"], force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {info['services']} service(s) from {path}.")


def init_app(app) -> None:
    """Nothing to attach yet beyond the group's own commands (kept for symmetry)."""


@main.group("users")
def users_group() -> None:
    """Accounts: add a user, print a new API token."""


@users_group.command("add")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "moderator", "editor", "partner"])
)
@click.option("--org", "org_ids", multiple=True, help="organisation id (editors; repeatable)")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def users_add_command(email: str, role: str, org_ids: tuple[str, ...], password_stdin: bool):
    """Create an account; without --password-stdin, print a one-time invitation link.

    Example: echo "$PASSWORD" | directory users add admin@example.org --role admin --password-stdin
    """
    from directory import auth
    from directory.db import get_db
    from directory.models import audit, users
    from directory.models.revisions import immediate

    password_hash = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if problem := auth.password_problem(password):
            raise click.ClickException(problem)
        password_hash = auth.hash_password(password)
    db = get_db()
    try:
        with immediate(db):
            user = users.create_user(
                db, email, role, password_hash=password_hash, org_ids=list(org_ids)
            )
            audit.record(
                db,
                "user.create",
                actor_email="cli",
                target_type="user",
                target_id=user.id,
                detail={"role": role, "organizations": list(org_ids), "via": "cli"},
            )
            link = None
            if not password_stdin:
                link = users.create_link(db, user.id, "invite", created_by=None)
    except users.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
    if link:
        click.echo(f"Invitation (valid 72 hours): open /account/set-password/{link}")


@users_group.command("token")
@click.argument("email")
@with_appcontext
def users_token_command(email: str) -> None:
    """Print a new API token for the user (only its hash is stored: keep it safe).

    Example: directory users token editor@example.org
    """
    from directory.db import get_db
    from directory.models import audit, users
    from directory.models.revisions import immediate

    db = get_db()
    user = users.get_by_email(db, email)
    if user is None or not user.active:
        raise click.ClickException(f"no active user {email}")
    with immediate(db):
        token = users.create_token(db, user.id)
        audit.record(db, "token.create", actor_email="cli", target_type="user", target_id=user.id)
    click.echo(token)
