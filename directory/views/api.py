"""The JSON API (HSDS API 3.0): the same search parameters as /search, the Page envelope."""

from flask import Blueprint, current_app, jsonify, request, url_for

from directory import hsds, nearby, present, search
from directory.db import get_db
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
            "profile": "https://github.com/openreferral/specification (HSDS 3.0) + PH survivor-support profile",
            "openapi_url": url_for("api.root", _external=True) + "openapi.json",
        }
    )


@bp.get("/services")
def services():
    """Search services; every parameter of /search; a bad one answers 400 naming it."""
    db = get_db()
    try:
        query = search.parse_query(
            db, request.args, per_page_max=current_app.config["PER_PAGE_MAX"]
        )
    except search.QueryError as exc:
        if exc.choices:
            return _choices_error(exc)
        return error_response(400, exc.message, exc.parameter)
    result = search.search(db, query)
    now = present.manila_now()
    contents = [
        hsds.service(s, extra=_extra(s, now, result))
        for s in get_services(db, result.service_ids)
    ]
    extra = {}
    if result.place is not None:
        extra["place"] = result.place.as_json()
        extra["radius_km"] = query.radius_km
        extra["serves_this_area"] = {
            "description": "Services without a physical location whose service area covers "
            f"{result.place.area.name if result.place.area else result.place.name}",
            "total_items": result.serving_total,
            "contents": [
                hsds.service(s, extra=_extra(s, now, result))
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
            facets=result.facets,
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
    """One full service."""
    record = get_service(get_db(), service_id)
    if record is None:
        return error_response(404, f"no service with id {service_id[:80]!r}", "id")
    return jsonify(hsds.service(record, extra=hsds.open_now_extra(record, present.manila_now())))
