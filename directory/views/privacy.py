"""The privacy page: what the directory records about a visit, and what it never does."""

from flask import Blueprint, render_template

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def privacy_page():
    """What is and is not recorded, in plain words."""
    return render_template("public/privacy.html")
