"""Public pages: home, search, service, organisation, hotlines by region, area browser."""

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext, ngettext
from flask_babel import gettext as _

from directory import geo, nearby, present, search
from directory.db import get_db
from directory.models import areas, audit, hotlines, organizations
from directory.models.services import get_service, get_services

bp = Blueprint("public", __name__)


@bp.app_context_processor
def template_helpers() -> dict:
    """Functions and values every template may use."""
    return {
        "phone_view": present.phone_view,
        "open_status": lambda s: present.open_status(s, present.manila_now()),
        "verification": lambda s: present.verification(
            s, date.today(), current_app.config["STALE_AFTER_DAYS"]
        ),
        "describe_search": lambda r: search.describe(r.query, r.total, gettext, ngettext),
        "quick_exit_url": current_app.config["QUICK_EXIT_URL"],
    }


def _regions(db) -> list:
    return [geo.get_area(db, r[0]) for r in db.execute(
        "select code from area where level = 'region' order by name"
    )]  # fmt: skip


def _form_context(db) -> dict:
    return {
        "regions": _regions(db),
        "types": [
            dict(r) for r in db.execute("select code, name from taxonomy_term order by position")
        ],
    }


@bp.get("/")
def index():
    """Urgent national lines above the search form."""
    db = get_db()
    return render_template(
        "public/index.html", urgent=hotlines.urgent_lines(db), **_form_context(db)
    )


@bp.get("/search")
def search_page():
    """Search with filters, facets and pages; a bad parameter answers 400 beside the form."""
    db = get_db()
    try:
        query = search.parse_query(
            db, request.args, allowed={"lang"}, per_page_max=current_app.config["PER_PAGE_MAX"]
        )
    except search.QueryError as exc:
        return (
            render_template(
                "public/search.html",
                error=exc,
                result=None,
                services=[],
                args=request.args,
                **_form_context(db),
            ),
            400,
        )
    result = search.search(db, query)
    return render_template(
        "public/search.html",
        error=None,
        result=result,
        services=get_services(db, result.service_ids),
        serving=get_services(db, result.serving_ids),
        args=request.args,
        **_form_context(db),
    )


@bp.get("/services/<service_id>")
def service_page(service_id: str):
    """Everything a referral needs about one service."""
    service = get_service(get_db(), service_id)
    if service is None:
        abort(404)
    return render_template("public/service.html", service=service, may_reveal=_may_reveal(service))


def _may_reveal(service: dict) -> bool:
    """Whether the viewer is entitled to ask for this service's confidential address."""
    from directory import auth

    user = auth.viewer()
    has_secret = any(loc["confidential"] for loc in service["locations"])
    return bool(has_secret and user and user.can_see_confidential(service["organization_id"]))


@bp.post("/services/<service_id>/reveal")
def reveal_address(service_id: str):
    """Show an entitled user a confidential address, with the stated reason logged."""
    from directory import auth

    db = get_db()
    service = get_service(db, service_id)
    if service is None:
        abort(404)
    if not _may_reveal(service):
        abort(403)
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > 500:
        error = _("Say why you need the address (up to 500 characters).")
        page = render_template(
            "public/service.html", service=service, may_reveal=True, reveal_error=error
        )
        return page, 400
    audit.log_reveal(db, auth.viewer(), service_id, reason)
    revealed = get_service(db, service_id, reveal_confidential=True)
    return render_template("public/service.html", service=revealed, may_reveal=False, revealed=True)


@bp.get("/organizations/<organization_id>")
def organization_page(organization_id: str):
    """An organisation and its services."""
    org = organizations.get_organization(get_db(), organization_id)
    if org is None:
        abort(404)
    return render_template("public/organization.html", org=org)


@bp.get("/hotlines")
def hotlines_page():
    """Lines serving a region (or province/city): national, regional and local, 24/7 first."""
    db = get_db()
    allowed = {"lang"}
    try:
        query = search.parse_query(db, request.args, allowed=allowed)
    except search.QueryError as exc:
        return render_template(
            "public/hotlines.html", error=exc, groups=None, query=None, regions=_regions(db)
        ), 400
    place, query.near = query.near, None  # lines serve the place's area; no radius here
    if place is not None and place.area is not None and query.area is None:
        query.area = place.area
        query.area_chain = [a.code for a in geo.ancestors(db, place.area.code)]
    if query.area is None and not query.country:
        query.country = "PH"
    groups, counts = hotlines.lines_for(db, query)
    distances = {}
    if place is not None:
        ids = [s["id"] for lines in groups.values() for s in lines]
        distances = {k: nearby.rounded(v) for k, v in nearby.distances(db, place, ids).items()}
    return render_template(
        "public/hotlines.html",
        error=None,
        groups=groups,
        counts=counts,
        pages=hotlines.page_count(counts),
        group_names=hotlines.GROUPS,
        query=query,
        place=place,
        distances=distances,
        regions=_regions(db),
    )


@bp.get("/areas")
@bp.get("/areas/<code>")
def areas_page(code: str = "PH"):
    """Browse region → province → city with the number of services serving each."""
    page = areas.area_page(get_db(), code)
    if page is None:
        abort(404)
    return render_template("public/areas.html", **page)


@bp.app_template_filter("combine_param")
def combine_param(args: dict, key: str, value: str) -> dict:
    """Query args with one parameter set (and back to page 1), for facet and sort links."""
    out = {k: v for k, v in args.items() if k not in (key, "page")}
    out[key] = value
    return out


@bp.app_template_filter("combine_page")
def combine_page(args: dict, page: int) -> dict:
    """Query args for another page."""
    return {**args, "page": page}
