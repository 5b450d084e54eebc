"""One way to turn a pydantic validation error into the one-line :class:`ConfigError` users see.

Used by the config schema (every key), by the nets' and the models' ``params`` schemas: each message
names the key to fix, what was wrong, and (for a params section) the fields that section takes.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gankit.errors import ConfigError

P = TypeVar("P", bound=BaseModel)

# Bounds of the numbers a config or an argument may hold (issue 19; gankit.limits explains them).
MAX_SEED = 2**32 - 1
MAX_INT = 2**31 - 1
MAX_EXCERPT = 80  # characters of an offending value an error message may echo


def excerpt(value: object, limit: int = MAX_EXCERPT) -> str:
    """``repr(value)``, cut to ``limit`` characters with its length said: an error message never echoes a
    25 MB value back. Containers are not expanded past the limit (repr of a huge list is not built)."""
    if isinstance(value, (list, tuple, dict, set)) and len(value) > 20:
        return f"<{type(value).__name__} of {len(value):,} items>"
    if isinstance(value, (str, bytes)) and len(value) > 4 * limit:
        value = value[: 4 * limit]
        text = repr(value)
        return text[:limit] + f"... ({len(value):,}+ chars)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} chars)"



def error_key(err: dict[str, Any], prefix: str = "") -> str:
    """The dotted key of one pydantic error (``err["loc"]``), under ``prefix``."""
    loc = ".".join(_short(str(part)) for part in err["loc"])
    return ".".join(p for p in (prefix, loc) if p) or "config"


def _short(part: str, limit: int = 40) -> str:
    """A key as an error message shows it: a pathological 1 MB key name is cut (issue 19)."""
    return part if len(part) <= limit else part[:limit] + f"...({len(part):,} chars)"


def error_message(err: dict[str, Any]) -> str:
    """pydantic's message without its "Value error, " preamble (our validators' texts stand alone)."""
    return err["msg"].removeprefix("Value error, ")


def parse_params(schema: type[P], params: dict, what: str, key: str = "model.params") -> P:
    """``params`` validated by the pydantic ``schema``; the first problem becomes one line naming
    ``key.FIELD`` and the fields that ``what`` (e.g. "model 'cgan'") takes.

    Example::

        parse_params(CGANParams, {"conditioning": "x"}, "model 'cgan'")
        # ConfigError: model.params.conditioning: Input should be 'concat' or 'projection' (model 'cgan' takes: ...)
    """
    try:
        return schema(**params)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"{error_key(err, key)}: {error_message(err)} "
                          f"({what} takes: {', '.join(schema.model_fields)})") from None
