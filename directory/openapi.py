"""The OpenAPI 3.1 document of /api: HSDS API 3.0's, extended with this directory's profile.

The HSDS part (hsds_openapi.json beside this file) is Open Referral's, CC BY-SA 4.0.
"""

import copy
import json
from functools import cache
from pathlib import Path

HSDS_OPENAPI = Path(__file__).with_name("hsds_openapi.json")
COMPILED = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/compiled/"
SCHEMA = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


def _q(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
AGE = {"type": "integer", "minimum": 0, "maximum": 120}
FLAG = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no"]}

# Our search parameters (DESIGN.md), shared by /search and /api/services.
OUR_PARAMETERS = {
    "q": _q("q", "Free-text search (the same as HSDS `search`).", STRING),
    "country": _q("country", "ISO 3166-1 alpha-2 country code.", STRING),
    "region": _q("region", "Region: PSGC code or name (\"NCR\", \"Region VII\", \"BARMM\").",
                 STRING),
    "province": _q("province", "Province: PSGC code or name.", STRING),
    "city": _q("city", "City, municipality or barangay: PSGC code or name (\"Pilar, Sorsogon\").",
               STRING),
    "type": _q("type", "Service type: a taxonomy term code or id (as `taxonomy_term_id`).",
               STRING),
    "language": _q("language", "ISO 639 language code or name.", STRING),
    "age": _q("age", "A person's age: services taking that age.", AGE),
    "minimum_age": _q("minimum_age", "UK profile: lowest age of the people to serve.", AGE),
    "maximum_age": _q("maximum_age", "UK profile: highest age of the people to serve.", AGE),
    "gender": _q("gender", "female or male: services taking that gender.",
                 {"type": "string", "enum": ["female", "male"]}),
    "open_now": _q("open_now", "1: open now (Asia/Manila time unless the service says).", FLAG),
    "twenty_four_seven": _q("twenty_four_seven", "1: open 24 hours, 7 days.", FLAG),
    "free": _q("free", "1: free of charge.", FLAG),
    "near": _q("near", "A place name or `lat,lon`: services within radius_km of it.", STRING),
    "radius_km": _q("radius_km", "Radius for `near`, in kilometres.", {"type": "number"}),
    "sort": _q("sort", "Order of results.",
               {"type": "string", "enum": ["relevance", "distance", "name", "verified"]}),
    "facets": _q("facets", "1: add `facets`, counts by region, type and language over every "
                 "result; not with `near` (400).", FLAG),
    "day": _q("day", "UK profile: open on this day (monday … sunday).",
              {"type": "string", "enum": ["monday", "tuesday", "wednesday", "thursday",
                                          "friday", "saturday", "sunday"]}),
    "start_time": _q("start_time", "UK profile, with `day`: open from this time (HH:MM, local).",
                     STRING),
    "end_time": _q("end_time", "UK profile, with `day`: open until this time (HH:MM, local).",
                   STRING),
}  # fmt: skip
HSDS_SERVICE_PARAMETERS = ("search", "page", "per_page", "taxonomy_term_id", "taxonomy_id",
                           "organization_id", "modified_after", "minimal", "full", "postcode",
                           "proximity")  # fmt: skip

PROFILE_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "parameter": {"type": ["string", "null"],
                                  "description": "The parameter at fault, if one is."},
                    "choices": {"type": "array", "items": {"type": "object"},
                                "description": "Places an ambiguous name could be."},
                },
            }
        },
    },
    "Source": {
        "type": "object",
        "description": "Where the listing's facts come from.",
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "date": {"type": "string", "description": "The source's date as it gives it."},
            "confidence": {"type": "string", "enum": ["high", "medium", "low"]},
        },
    },
    "PhoneProfile": {
        "type": "object",
        "properties": {
            "e164": {"type": "string", "description": "The number in E.164, when it validates."},
            "short_code": {"type": "string", "description": "A short code such as 163 or 1383."},
            "sms": {"type": "boolean", "description": "Takes text messages."},
            "sms_body": {"type": "string", "description": "The keyword a text line expects."},
            "needs_verification": {"type": "boolean",
                                   "description": "The number did not validate: shown without a "
                                   "dial link until a person checks it."},
            "problem": {"type": "string", "description": "Why it needs verification."},
            "tested_on": {"type": "string", "format": "date"},
        },
    },
    "AddressProfile": {
        "type": "object",
        "properties": {"psgc_code": {"type": "string", "pattern": "^[0-9]{10}$",
                                     "description": "The PSGC area of the address."}},
    },
    "LocationProfile": {
        "type": "object",
        "properties": {
            "confidential": {"type": "boolean",
                             "description": "A confidential address (a shelter): the public sees "
                             "no street address and only its city's point."},
            "psgc_code": {"type": "string", "description": "The PSGC area of the location."},
            "addresses": {"type": "array",
                          "items": {"$ref": "#/components/schemas/AddressProfile"}},
        },
    },
    "ServiceProfile": {
        "type": "object",
        "description": "Fields this directory adds to an HSDS service.",
        "properties": {
            "assured_date": {"type": "string", "format": "date",
                             "description": "When a person last verified the listing."},
            "source": {"$ref": "#/components/schemas/Source"},
            "kind": {"type": "string"},
            "gender": {"type": "string", "enum": ["female", "male"]},
            "free": {"type": "boolean"},
            "twenty_four_seven": {"type": "boolean"},
            "victim_facing": {"type": "boolean"},
            "hours_text": {"type": "string", "description": "Opening hours as published."},
            "hours_note": {"type": "string"},
            "other_channels": {"type": "string"},
            "notes": {"type": "string"},
            "open_now": {"type": "object", "properties": {"state": {"type": "string"},
                                                          "label": {"type": "string"}}},
            "distance_km": {"type": ["number", "null"]},
            "phones": {"type": "array", "items": {"$ref": "#/components/schemas/PhoneProfile"}},
            "service_areas": {"type": "array",
                              "items": {"$ref": "#/components/schemas/AddressProfile"}},
            "service_at_locations": {
                "type": "array",
                "items": {"type": "object", "properties": {
                    "location": {"$ref": "#/components/schemas/LocationProfile"}}},
            },
        },
    },
    "SearchPage": {
        "type": "object",
        "description": "Our additions to the Page of /services.",
        "properties": {
            "description": {"type": "string", "description": "What was searched, in words."},
            "facets": {"type": "object",
                       "description": "With facets=1: counts by region, type and language."},
            "place": {"type": "object"},
            "radius_km": {"type": "number"},
            "serves_this_area": {"type": "object"},
        },
    },
}  # fmt: skip


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page_of(item: dict, description: str, extra: list | None = None) -> dict:
    schema = {
        "allOf": [{"$ref": "#/components/schemas/Page"}, *(extra or [])],
        "properties": {"contents": {"type": "array", "items": item}},
    }
    return _json(schema, description)


ERRORS = {
    "400": _json({"$ref": "#/components/schemas/Error"}, "A parameter is unknown or malformed."),
}
NOT_FOUND = {"404": _json({"$ref": "#/components/schemas/Error"}, "No such record.")}
SERVICE = {"allOf": [{"$ref": COMPILED + "service.json"},
                     {"$ref": "#/components/schemas/ServiceProfile"}]}  # fmt: skip


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _id(what: str) -> list:
    return [{"in": "path", "name": "id", "required": True,
             "description": f"The id of the {what}.", "schema": {"type": "string"}}]  # fmt: skip


@cache
def _hsds() -> dict:
    return json.loads(HSDS_OPENAPI.read_text(encoding="utf-8"))


def document(api_url: str) -> dict:
    """The OpenAPI document, with `api_url` (the absolute URL of /api) as its server."""
    doc = copy.deepcopy(_hsds())
    hsds_paths = doc["paths"]
    doc["info"] = {
        "title": "Survivor-support service directory API (HSDS 3.0)",
        "version": "1.0",
        "summary": "Open Referral HSDS API 3.0 with the Philippine survivor-support profile.",
        "description": (
            "Services for children and young people who survived sexual exploitation. "
            "The API follows Open Referral's Human Services Data Specification 3.0; this "
            "description extends HSDS's own OpenAPI document (Open Referral, CC BY-SA 4.0, "
            "https://github.com/openreferral/specification) with this directory's search "
            "parameters and profile fields: `assured_date` and `source` on services, "
            "`confidential` and `psgc_code` on locations, `psgc_code` on addresses and service "
            "areas, and `e164`, `short_code`, `sms`, `needs_verification` on phones. A "
            "confidential location is returned without its street address, and with its city's "
            "point instead of its own."
        ),
        "license": {"name": "CC BY-SA 4.0", "identifier": "CC-BY-SA-4.0"},
    }
    doc["servers"] = [{"url": api_url}]
    doc["components"]["parameters"].update(OUR_PARAMETERS)
    doc["components"]["parameters"]["proximity"]["description"] = (
        "With `near`: services within this many metres of it (the same as radius_km × 1000). "
        "Postcode centroids are not known here, so `postcode` alone cannot anchor it."
    )
    doc["components"]["parameters"]["postcode"]["description"] = (
        "Services at a (non-confidential) address with this postcode."
    )
    doc["components"]["schemas"].update(PROFILE_SCHEMAS)
    search_params = [_ref(n) for n in (*HSDS_SERVICE_PARAMETERS, *OUR_PARAMETERS)]
    page_params = [_ref("page"), _ref("per_page")]

    paths = {"/": hsds_paths["/"]}
    services_get = hsds_paths["/services"]["get"]
    services_get["description"] = (
        "Search services. Every parameter of the public search page, plus HSDS's. By default "
        "each service is fully nested; `full=0` gives the one-to-one fields, `minimal=1` just "
        "id, name, status and last_modified."
    )
    services_get["parameters"] = search_params
    services_get["responses"] = {
        "200": _page_of(
            SERVICE, "A page of services.", [{"$ref": "#/components/schemas/SearchPage"}]
        ),
        **ERRORS,
    }
    paths["/services"] = {"get": services_get}
    body_schema = {
        "type": "object",
        "description": "The parameters of GET /services, as JSON values.",
        "properties": {
            name: doc["components"]["parameters"][name]["schema"]
            for name in (*HSDS_SERVICE_PARAMETERS, *OUR_PARAMETERS)
        },
        "additionalProperties": False,
    }
    paths["/services/search"] = {
        "post": {
            "summary": "Search services with the parameters in a JSON body.",
            "description": "The same as GET /services, so that a search need not sit in a URL "
            "or a server log.",
            "operationId": "searchServices",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_schema}},
            },
            "responses": paths["/services"]["get"]["responses"],
        }
    }
    service_by_id = hsds_paths["/services/{id}"]
    service_by_id["get"]["responses"] = {"200": _json(SERVICE, "One fully nested service."),
                                         **NOT_FOUND}  # fmt: skip
    paths["/services/{id}"] = service_by_id

    org_list = hsds_paths["/organizations"]["get"]
    org_list["parameters"] = [_ref("search"), _ref("full"), _ref("full_service"), *page_params]
    org_list["responses"]["400"] = ERRORS["400"]
    paths["/organizations"] = {"get": org_list}
    paths["/organizations/{id}"] = _with_404(hsds_paths["/organizations/{id}"])

    tax_list = hsds_paths["/taxonomies"]["get"]
    tax_list["parameters"] = page_params
    tax_list["responses"]["400"] = ERRORS["400"]
    paths["/taxonomies"] = {"get": tax_list}
    paths["/taxonomies/{id}"] = _with_404(hsds_paths["/taxonomies/{id}"])

    term_list = hsds_paths["/taxonomy_terms"]["get"]
    term_list["parameters"] = [_ref("taxonomy_id"), *page_params]
    term_list["responses"]["400"] = ERRORS["400"]
    paths["/taxonomy_terms"] = {"get": term_list}
    paths["/taxonomy_terms/{id}"] = _with_404(hsds_paths["/taxonomy_terms/{id}"])

    sal_list = hsds_paths["/service_at_locations"]["get"]
    sal_list["parameters"] = [
        _q("service_id", "Only the locations of this service.", STRING),
        *page_params,
    ]
    sal_list["responses"]["400"] = ERRORS["400"]
    paths["/service_at_locations"] = {"get": sal_list}
    sal_by_id = _with_404(hsds_paths["/service_at_locations/{id}"])
    # HSDS 3.0's document points this at service.json; the shape returned is service_at_location
    sal_by_id["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": COMPILED + "service_at_location.json"
    }
    paths["/service_at_locations/{id}"] = sal_by_id
    paths["/openapi.json"] = {
        "get": {
            "summary": "This document.",
            "operationId": "getOpenAPI",
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
        }
    }
    doc["paths"] = paths
    return doc


def _with_404(path_item: dict) -> dict:
    path_item["get"]["responses"].update(NOT_FOUND)
    return path_item
