"""Pydantic validation errors as one line naming the field path, e.g. ``objects[2].size: must be > 0``."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tuple[")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "scene"


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*"
_SUBFIELD = re.compile(rf"^({_IDENT}(?:\.{_IDENT})*): (.+)$")


def format_validation_error(err: ValidationError) -> str:
    """Return one line naming the first bad field, e.g. ``objects[2].size: must be > 0``."""
    e = err.errors()[0]
    loc = _format_loc(tuple(e.get("loc", ())))
    msg = e.get("msg", "invalid")
    msg = msg.removeprefix("Value error, ")
    if e.get("type") == "extra_forbidden":
        msg = "unknown field"
    if e.get("type") == "greater_than":
        msg = f"must be > {e['ctx']['gt']}"
    if e.get("type") == "greater_than_equal":
        msg = f"must be >= {e['ctx']['ge']}"
    if e.get("type") == "less_than_equal":
        msg = f"must be <= {e['ctx']['le']}"
    m = _SUBFIELD.match(msg) if e.get("type") == "value_error" else None
    if m:  # a model validator named the field itself: "objects[0]" + "size: ..." -> "objects[0].size: ..."
        sub, msg = m.group(1), m.group(2)
        loc = sub if loc == "scene" else loc + ("" if sub.startswith("[") else ".") + sub
    return f"{loc}: {msg}"
