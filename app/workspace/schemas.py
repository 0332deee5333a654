"""Marshmallow schemas: request bodies and query parameters (unknown body
fields are refused), and the answer shapes used by the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from app.web.fields import StrictBoolean
from app.workspace import domain


class Text(fields.String):
    """A string, stripped, with nothing PostgreSQL would refuse."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        problem = domain.text_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class JsonObject(fields.Dict):
    """A JSON object that jsonb accepts, below a size limit."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        problem = domain.json_problem(result)
        if problem:
            raise ValidationError(problem)
        if domain.json_size(result) > domain.METADATA_MAX_BYTES:
            raise ValidationError(f"must be at most {domain.METADATA_MAX_BYTES} bytes as JSON")
        return result


class CsvList(fields.Field):
    """A query parameter holding one value or several, comma-separated."""

    def __init__(
        self, choices: tuple[str, ...] | None = None, max_items: int = 100, **kwargs: Any
    ) -> None:
        kwargs.setdefault("metadata", {}).update(
            type="string", description="one value, or several separated by commas"
        )
        super().__init__(**kwargs)
        self.choices = choices
        self.max_items = max_items

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise ValidationError("Not a valid string.")
        values = [part.strip() for part in value.split(",") if part.strip()]
        if len(values) > self.max_items:
            raise ValidationError(f"at most {self.max_items} values")
        for part in values:
            problem = domain.text_problem(part)
            if problem:
                raise ValidationError(problem)
        if self.choices is not None:
            wrong = [v for v in values if v not in self.choices]
            if wrong:
                raise ValidationError(
                    f"must be among {', '.join(self.choices)}; got {', '.join(wrong)}"
                )
        return values


def _title(**kwargs: Any) -> Text:
    return Text(validate=validate.Length(min=1, max=domain.TITLE_MAX), **kwargs)


def _description(**kwargs: Any) -> Text:
    return Text(validate=validate.Length(min=1, max=domain.DESCRIPTION_MAX), **kwargs)


def _tags(**kwargs: Any) -> fields.List:
    return fields.List(
        Text(validate=validate.Length(min=1, max=domain.TAG_MAX)),
        validate=validate.Length(max=domain.TAGS_MAX),
        **kwargs,
    )


def _dedupe_tags(data: dict[str, Any]) -> dict[str, Any]:
    if "tags" in data:
        data["tags"] = domain.clean_tags(data["tags"])
    return data


_PRIORITY = validate.OneOf(domain.PRIORITIES)
_CATEGORY_REF = validate.Length(min=1, max=64)


class ItemCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    title = _title(required=True)
    description = _description(required=True)
    category = Text(required=True, validate=_CATEGORY_REF)
    priority = fields.String(load_default=domain.DEFAULT_PRIORITY, validate=_PRIORITY)
    status = fields.String(
        load_default=domain.INITIAL_STATUS,
        validate=validate.OneOf(
            [domain.INITIAL_STATUS],
            error="new items start as 'new'; change the status with PATCH afterwards",
        ),
    )
    tags = _tags(load_default=list)
    metadata = JsonObject(keys=fields.String(), load_default=dict)

    @post_load
    def _clean(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _dedupe_tags(data)


class ItemUpdateSchema(Schema):
    """PUT and PATCH alike: any subset of the fields a client may change."""

    class Meta:
        unknown = RAISE

    title = _title()
    description = _description()
    category = Text(validate=_CATEGORY_REF)
    priority = fields.String(validate=_PRIORITY)
    status = fields.String(validate=validate.OneOf(domain.STATUSES))
    tags = _tags()
    metadata = JsonObject(keys=fields.String())

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one field to change", "_schema")

    @post_load
    def _clean(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _dedupe_tags(data)


class ItemQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    category = CsvList(load_default=None)
    status = CsvList(domain.STATUSES, load_default=None)
    priority = CsvList(domain.PRIORITIES, load_default=None)
    search = Text(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class CategoryCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(
        required=True,
        validate=[
            validate.Regexp(
                domain.CATEGORY_NAME,
                error="lower-case letters, digits and inner hyphens, at most 64 characters",
            ),
            validate.NoneOf(domain.RESERVED_CATEGORY_NAMES, error="is a reserved name"),
        ],
    )
    display_name = Text(
        load_default=None, validate=validate.Length(min=1, max=domain.DISPLAY_NAME_MAX)
    )
    description = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    color = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(domain.COLOR, error="a colour like #1A2B3C"),
    )
    icon = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    sort_order = fields.Integer(
        load_default=100, strict=True, validate=validate.Range(min=-1_000_000, max=1_000_000)
    )
    is_active = StrictBoolean(load_default=True)


class CategoryUpdateSchema(Schema):
    class Meta:
        unknown = RAISE

    display_name = Text(validate=validate.Length(min=1, max=domain.DISPLAY_NAME_MAX))
    description = Text(allow_none=True, validate=validate.Length(max=2000))
    color = fields.String(
        allow_none=True, validate=validate.Regexp(domain.COLOR, error="a colour like #1A2B3C")
    )
    icon = Text(allow_none=True, validate=validate.Length(min=1, max=64))
    sort_order = fields.Integer(strict=True, validate=validate.Range(min=-1_000_000, max=1_000_000))
    is_active = StrictBoolean()

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one field to change", "_schema")


class CategoryValidateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(max=200))


class CategoryQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    # Only the two words: "1", "yes" or "on" would be ambiguous to a reader of the URL.
    active = fields.Boolean(
        load_default=None,
        truthy={"true"},
        falsy={"false"},
        metadata={"type": "string", "enum": ["true", "false"]},
    )


# -- answer shapes (documentation) -----------------------------------------------


class ItemSchema(Schema):
    id = fields.String()
    title = fields.String()
    description = fields.String()
    category = fields.String()
    priority = fields.String(metadata={"enum": list(domain.PRIORITIES)})
    status = fields.String(metadata={"enum": list(domain.STATUSES)})
    tags = fields.List(fields.String())
    metadata = fields.Dict()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    created_by = fields.String()
    updated_by = fields.String()


class ItemAnswerSchema(Schema):
    success = fields.Boolean()
    data = fields.Nested(ItemSchema)


class ItemListSchema(Schema):
    success = fields.Boolean()
    data = fields.List(fields.Nested(ItemSchema))
    count = fields.Integer(metadata={"description": "items in this page"})
    total = fields.Integer(metadata={"description": "items matching the filters"})
    limit = fields.Integer()
    offset = fields.Integer()


class StatsSchema(Schema):
    total = fields.Integer()
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_priority = fields.Dict(keys=fields.String(), values=fields.Integer())


class CategorySchema(Schema):
    name = fields.String()
    display_name = fields.String()
    description = fields.String(allow_none=True)
    color = fields.String(allow_none=True)
    icon = fields.String(allow_none=True)
    sort_order = fields.Integer()
    is_active = fields.Boolean()
    item_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    created_by = fields.String()
    updated_by = fields.String()


class CategoryValidationSchema(Schema):
    success = fields.Boolean()
    name = fields.String()
    valid = fields.Boolean()
    exists = fields.Boolean()
    active = fields.Boolean()
    reason = fields.String(allow_none=True)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    entity = fields.String()
    entity_id = fields.String()
    action = fields.String(metadata={"enum": ["create", "update", "delete"]})
    old_data = fields.Dict(allow_none=True)
    new_data = fields.Dict(allow_none=True)
    changed_by = fields.String()
    changed_at = fields.DateTime()
    source = fields.String()
    request_id = fields.String(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Dict()
