"""Helpers for tests that read pages and source: a form's CSRF token and fields, the msgids
passed to translation calls."""

import ast
import re
from html import unescape
from pathlib import Path


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def form_fields(html: str) -> dict[str, list[str]]:
    """The fields a browser would submit for a form page, unchanged."""
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data.setdefault(name.group(1), []).append(value.group(1) if value else "y")
            continue
        data.setdefault(name.group(1), []).append(unescape(value.group(1)) if value else "")
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = [unescape(body).strip("\r\n")]
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.findall(r'<option selected value="([^"]*)"', options)
        data[name] = chosen or re.findall(r'<option[^>]*value="([^"]*)"', options)[:1]
    return data


def literal_msgids(path: Path, calls: dict[str, int]) -> tuple[set[str], list[int]]:
    """String literals passed as the msgid (argument `calls[name]`) of calls to those names, and
    the lines where something else (an f-string, a concatenation) is passed instead."""
    found, built = set(), []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in calls and len(node.args) > calls[name]:
            arg = node.args[calls[name]]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.IfExp):
                found |= {a.value for a in (arg.body, arg.orelse) if isinstance(a, ast.Constant)}
            elif isinstance(arg, ast.JoinedStr | ast.BinOp):
                built.append(node.lineno)
    return found, built
