"""Shared by the safety tests: every GET route of the app, with its URL parameters filled in.

Routes are discovered from ``app.url_map``, so a page or endpoint added later is crawled (and
checked for leaks, third-party resources and headers) without anyone listing it here.
"""

import io
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urlencode

from werkzeug.routing import Rule

# Ids nobody has: the crawl asks for them too (404 pages must not leak anything either).
GUESSED_IDS = (
    "00000000-0000-0000-0000-000000000000",
    "does-not-exist",
    "1",
    "..%2F..%2Fetc%2Fpasswd",
    "%27%20OR%201%3D1%20--",
)
SKIP_ENDPOINTS = {"static"}


@dataclass
class Crawl:
    """What a crawl fetched: (label, URL, status) per request, and the bodies to check."""

    fetched: list[tuple[str, str, int]] = field(default_factory=list)
    routes: dict[str, set[str]] = field(default_factory=dict)  # rule → variant labels


def get_rules(app) -> list[Rule]:
    """Every rule answering GET, except static files."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if "GET" in r.methods and r.endpoint not in SKIP_ENDPOINTS
        ),
        key=lambda r: r.rule,
    )


def post_rules(app) -> list[Rule]:
    """Every rule answering POST."""
    return sorted(
        (r for r in app.url_map.iter_rules() if "POST" in r.methods), key=lambda r: r.rule
    )


def values_for(argument: str, ids: dict[str, list[str]]) -> list[str]:
    """Candidate values for a URL parameter: the known ids of its kind, then guessed ones."""
    name = argument.lower()
    for key in ids:
        if key in name:
            return list(ids[key]) + list(GUESSED_IDS)
    everything = [v for values in ids.values() for v in values]
    return everything + list(GUESSED_IDS)


def fill(rule: Rule, ids: dict[str, list[str]]) -> list[str]:
    """URLs for a rule: one per candidate value of each parameter (other parameters first kind)."""
    arguments = sorted(rule.arguments)
    if not arguments:
        return [rule.rule]
    urls = []
    for argument in arguments:
        for value in values_for(argument, ids):
            path = rule.rule
            for other in arguments:
                chosen = value if other == argument else values_for(other, ids)[0]
                path = _substitute(path, other, chosen)
            urls.append(path)
    return list(dict.fromkeys(urls))


def _substitute(path: str, argument: str, value: str) -> str:
    for converter in ("", "string:", "path:", "int:", "uuid:"):
        path = path.replace(f"<{converter}{argument}>", value)
    return path


def with_args(url: str, args: dict | list | None) -> str:
    """The URL with a query string (a list of pairs keeps repeated parameters)."""
    if not args:
        return url
    return f"{url}?{urlencode(args, doseq=True)}"


def texts(response) -> list[str]:
    """Everything a response shows, as text: the body, each member of a zip, and the headers."""
    data = response.get_data()
    out = [str(response.headers)]
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            out += [z.read(name).decode("utf-8", "replace") for name in z.namelist()]
    else:
        out.append(data.decode("utf-8", "replace"))
    return out
