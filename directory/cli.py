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
    from directory.server import run_gunicorn

    run_gunicorn(app, host=host, port=port, workers=workers)


@main.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="validate and report; change nothing")
@with_appcontext
def load_command(path: Path, dry_run: bool) -> None:
    """Import listings (flat CSV); all-or-nothing, every problem reported with its line.

    Example: directory load listings.csv --dry-run
    """
    from directory.db import get_db
    from directory.importers import ImportFailed
    from directory.importers.load import load_file

    try:
        report = load_file(get_db(), path, dry_run=dry_run)
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"Nothing was imported: {len(exc.problems)} problem(s).", err=True)
        sys.exit(1)
    click.echo(report)


def init_app(app) -> None:
    """Nothing to attach yet beyond the group's own commands (kept for symmetry)."""
