"""The public data page: what the directory publishes, its licence and attribution, downloads."""

from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template

from directory import downloads, exporters
from directory.db import get_db
from directory.search import Message
from directory.views.errors import error_response

bp = Blueprint("data", __name__)
RETRY_AFTER_S = 60


@bp.get("/data")
def page():
    """Downloads of the published listings, with licence and attribution."""
    return render_template("public/data.html", counts=exporters.counts(get_db()))


@bp.get("/data/services.json")
def services_json():
    """Every published service as HSDS JSON (confidential addresses left out)."""
    return _download("services.json", "application/json")


@bp.get("/data/listings.csv")
def listings_csv():
    """Every published service in the flat listing CSV (confidential addresses left out)."""
    return _download("listings.csv", "text/csv; charset=utf-8")


@bp.get("/data/hsds.zip")
def hsds_zip():
    """Every published service as an HSDS tabular data package, zipped."""
    return _download("hsds.zip", "application/zip")


def _download(name: str, mimetype: str):
    """The file for the current data from disk; 503 (come back) while a large one is built."""
    db = get_db()
    config = current_app.config
    folder = config.get("DOWNLOADS_DIR") or downloads.folder_for(config["DATABASE"])
    small = exporters.counts(db)["services"] <= config["DOWNLOAD_BUILD_IN_REQUEST_MAX"]
    path = downloads.ready(db, folder, name, build_now=small)
    if path is None:
        response, status = error_response(
            503, Message("This download is being prepared. Please try again in a minute.")
        )
        response = current_app.make_response((response, status))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    response = Response(_chunks(path), mimetype=mimetype)
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _chunks(path: Path) -> Iterator[bytes]:
    # A generator, not send_file's open file: the file is closed as soon as the body has been
    # read (or the server closes the response), not whenever the response is collected.
    with open(path, "rb") as fp:
        while chunk := fp.read(1 << 16):
            yield chunk
