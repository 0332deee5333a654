"""Marshmallow fields and validators both services' schemas share."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate


def text_problem(value: str) -> str | None:
    """What PostgreSQL would refuse in a text value (before it turns into a 500)."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no unpaired surrogates)"
    return None


class FullMatch(validate.Regexp):
    """A Regexp the whole value must match: `$` alone also takes a trailing newline.

    The pattern stays a plain `^...$` so the OpenAPI document can carry it.
    """

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class StrictBoolean(fields.Boolean):
    """true or false only: not 0, 1, "yes" or "on", which fields.Boolean also takes."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
