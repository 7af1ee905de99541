"""The public data page: what the directory publishes, its licence and attribution, downloads."""

import io

from flask import Blueprint, Response, render_template

from directory import exporters
from directory.db import get_db

bp = Blueprint("data", __name__)


@bp.get("/data")
def page():
    """Downloads of the published listings, with licence and attribution."""
    return render_template("public/data.html", counts=exporters.counts(get_db()))


@bp.get("/data/services.json")
def services_json():
    """Every published service as HSDS JSON (confidential addresses left out)."""
    out = io.StringIO()
    exporters.write_json(get_db(), out)
    return _download(out.getvalue(), "application/json", "services.json")


@bp.get("/data/listings.csv")
def listings_csv():
    """Every published service in the flat listing CSV (confidential addresses left out)."""
    out = io.StringIO()
    exporters.write_flat_csv(get_db(), out)
    return _download(out.getvalue(), "text/csv; charset=utf-8", "listings.csv")


@bp.get("/data/hsds.zip")
def hsds_zip():
    """Every published service as an HSDS tabular data package, zipped."""
    out = io.BytesIO()
    exporters.write_datapackage_zip(get_db(), out)
    return _download(out.getvalue(), "application/zip", "hsds.zip")


def _download(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
