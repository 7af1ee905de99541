"""The JSON API (HSDS API 3.0): the same search parameters as /search, the Page envelope."""

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.datastructures import ImmutableMultiDict

from directory import hsds, hsds_api, nearby, openapi, present, search
from directory.db import get_db
from directory.models import audit, catalog, taxonomies
from directory.models.services import get_service, get_services
from directory.views.errors import error_response

bp = Blueprint("api", __name__)
HSDS_VERSION = "3.0"


@bp.get("/")
def root():
    """API metadata: version, profile and where the OpenAPI document is."""
    return jsonify(
        {
            "version": HSDS_VERSION,
            "profile": url_for("data.page", _external=True) + "#profile",
            "openapi_url": url_for("api.root", _external=True) + "openapi.json",
        }
    )


@bp.get("/services")
def services():
    """Search services; every parameter of /search; a bad one answers 400 naming it."""
    db = get_db()
    try:
        query, shape = hsds_api.parse_services_query(
            db, request.args, per_page_max=current_app.config["PER_PAGE_MAX"]
        )
    except search.QueryError as exc:
        if exc.choices:
            return _choices_error(exc)
        return error_response(400, exc.message, exc.parameter)
    # Facet counts are on request: they visit every hit, while the page and total need only
    # the hits' ranks. Within a radius they cost more than the nearest page itself (16k rows
    # for 50 km of Quezon City at 100k listings), so `near` never has them.
    facets = shape.facets and query.near is None
    result = search.search(db, query, facets=facets)
    now = present.manila_now()
    contents = [
        hsds_api.service_item(s, shape, _extra(s, now, result))
        for s in get_services(db, result.service_ids)
    ]
    extra = {}
    if result.place is not None:
        extra["place"] = result.place.as_json()
        extra["radius_km"] = query.radius_km
    if result.place is not None and query.page == 1:  # the group goes with the first page
        extra["serves_this_area"] = {
            "description": "Services without a physical location whose service area covers "
            f"{result.place.area.name if result.place.area else result.place.name}",
            "total_items": result.serving_total,
            "contents": [
                hsds_api.service_item(s, shape, _extra(s, now, result))
                for s in get_services(db, result.serving_ids)
            ],
        }
    return jsonify(
        hsds.page(
            contents,
            result.total,
            query.page,
            query.per_page,
            description=result.description,
            **({"facets": result.facets} if facets else {}),
            **extra,
        )
    )


def _extra(record: dict, now, result: search.SearchResult) -> dict:
    """Our profile's fields for one service of a result: open now, and distance with `near`."""
    extra = hsds.open_now_extra(record, now)
    if result.place is not None:
        km = result.distances.get(record["id"])
        extra["distance_km"] = nearby.rounded(km) if km is not None else None
    return extra


def _choices_error(exc: search.QueryError):
    """400 for a place that is ambiguous or unknown, listing what it could be."""
    body = {
        "error": {
            "status": 400,
            "message": exc.message,
            "parameter": exc.parameter,
            "choices": [{"code": code, "name": label} for code, label in exc.choices],
        }
    }
    return jsonify(body), 400


@bp.get("/services/<service_id>")
def service(service_id: str):
    """One full service; its ETag is its version (send it as If-Match to /api/manage)."""
    from directory import auth
    from directory.models.revisions import current_version

    db = get_db()
    record = get_service(db, service_id)
    if record is None:
        return error_response(404, f"no service with id {service_id[:80]!r}", "id")
    user = auth.viewer()
    reason = (request.args.get("reveal_reason") or "").strip()[:500]
    # An entitled viewer sees a confidential address only by stating why; each reveal is logged.
    if reason and user is not None and user.can_see_confidential(record["organization_id"]):
        audit.log_reveal(db, user, service_id, reason)
        record = get_service(db, service_id, reveal_confidential=True)
    response = jsonify(
        hsds.service(record, extra=hsds.open_now_extra(record, present.manila_now()))
    )
    response.headers["ETag"] = f'"{current_version(db, service_id)}"'
    if user is not None:  # an entitled viewer's copy may hold a confidential address
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.update(("Authorization", "Cookie"))
    return response


@bp.post("/services/search")
def services_search():
    """Search services with the parameters in a JSON body (so they stay out of URLs and logs)."""
    try:
        args = hsds_api.args_from_json(request.get_json(silent=True))
    except search.QueryError as exc:
        return error_response(400, exc.message, exc.parameter)
    # The same code path as GET /api/services, with the body standing in for the query string.
    request.args = ImmutableMultiDict([(k, v) for k, values in args.items() for v in values])
    return services()


def _list_args(values=frozenset(), flags=frozenset()):
    return hsds_api.parse_list(
        request.args,
        per_page_max=current_app.config["PER_PAGE_MAX"],
        values=frozenset(values),
        flags=frozenset(flags),
    )


def _bad(exc: search.QueryError):
    return error_response(400, exc.message, exc.parameter)


def _not_found(what: str, value: str):
    return error_response(404, f"no {what} with id {value[:80]!r}", "id")


@bp.get("/organizations")
def organizations():
    """Organisations, a page at a time (`search` narrows by name; `full=1` nests services)."""
    try:
        page, per_page, options = _list_args({"search"}, {"full", "full_service"})
    except search.QueryError as exc:
        return _bad(exc)
    full = options["full"] or options["full_service"]
    db = get_db()
    rows, total = catalog.list_organizations(db, page, per_page, search=options["search"])
    contents = [
        hsds_api.organization(row, _org_services(db, row["id"]) if full else None) for row in rows
    ]
    return jsonify(hsds.page(contents, total, page, per_page))


def _org_services(db, organization_id: str) -> list[dict]:
    return [
        hsds.service(s)
        for s in get_services(db, catalog.organization_service_ids(db, organization_id))
    ]


@bp.get("/organizations/<organization_id>")
def organization(organization_id: str):
    """One organisation, fully nested with its services."""
    db = get_db()
    row = catalog.get_organization_row(db, organization_id)
    if row is None:
        return _not_found("organization", organization_id)
    return jsonify(hsds_api.organization(row, _org_services(db, organization_id)))


@bp.get("/taxonomies")
def taxonomies_list():
    """Taxonomies, a page at a time."""
    try:
        page, per_page, _ = _list_args()
    except search.QueryError as exc:
        return _bad(exc)
    rows, total = taxonomies.list_taxonomies(get_db(), page, per_page)
    return jsonify(hsds.page([hsds_api.taxonomy(r) for r in rows], total, page, per_page))


@bp.get("/taxonomies/<taxonomy_id>")
def taxonomy(taxonomy_id: str):
    """One taxonomy."""
    row = taxonomies.get_taxonomy(get_db(), taxonomy_id)
    if row is None:
        return _not_found("taxonomy", taxonomy_id)
    return jsonify(hsds_api.taxonomy(row))


@bp.get("/taxonomy_terms")
def taxonomy_terms():
    """Taxonomy terms, a page at a time (`taxonomy_id` narrows to one taxonomy)."""
    try:
        page, per_page, options = _list_args({"taxonomy_id"})
    except search.QueryError as exc:
        return _bad(exc)
    db = get_db()
    rows, total = taxonomies.list_terms(db, page, per_page, taxonomy_id=options["taxonomy_id"])
    return jsonify(hsds.page([hsds_api.taxonomy_term(r) for r in rows], total, page, per_page))


@bp.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str):
    """One taxonomy term (by id, or by its code) with its taxonomy."""
    db = get_db()
    row = taxonomies.get_term(db, term_id)
    if row is None:
        return _not_found("taxonomy term", term_id)
    parent = taxonomies.get_taxonomy(db, row["taxonomy_id"]) if row.get("taxonomy_id") else None
    return jsonify(hsds_api.taxonomy_term(row, parent))


@bp.get("/service_at_locations")
def service_at_locations():
    """Services at their locations, a page at a time (`service_id` narrows to one service)."""
    try:
        page, per_page, options = _list_args({"service_id"})
    except search.QueryError as exc:
        return _bad(exc)
    db = get_db()
    rows, total = catalog.list_service_at_locations(
        db, page, per_page, service_id=options["service_id"]
    )
    records = {r["id"]: r for r in get_services(db, list(dict.fromkeys(s for _, s, _ in rows)))}
    contents = [
        hsds_api.service_at_location(sal_id, records[sid], lid)
        for sal_id, sid, lid in rows
        if sid in records
    ]
    return jsonify(hsds.page([c for c in contents if c], total, page, per_page))


@bp.get("/service_at_locations/<sal_id>")
def service_at_location(sal_id: str):
    """One service at a location; a confidential location without its street or exact point."""
    db = get_db()
    found = catalog.get_service_at_location(db, sal_id)
    record = get_service(db, found[0]) if found else None
    body = hsds_api.service_at_location(sal_id, record, found[1]) if record else None
    if body is None:
        return _not_found("service_at_location", sal_id)
    return jsonify(body)


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API (HSDS's, extended with our profile)."""
    return jsonify(openapi.document(url_for("api.root", _external=True).rstrip("/")))
