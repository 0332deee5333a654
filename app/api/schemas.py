"""Marshmallow schemas: the ingest contract, query parameters, registry bodies,
and the output shapes (used for the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.api.channel_ref import channel_filter
from app.web.fields import FullMatch, StrictBoolean, text_problem

INT64 = validate.Range(min=-(2**63), max=2**63 - 1)
# Ids are PostgreSQL bigints; Telegram's are never 0 or negative for messages.
MESSAGE_ID = validate.Range(min=1, max=2**63 - 1)
CHANNEL_ID = [INT64, validate.NoneOf([0], error="0 is not a Telegram channel id")]
MAX_TEXT = 100_000
MAX_BATCH = 500
# Telegram started in August 2013: an earlier message timestamp is a producer bug.
EARLIEST = dt.datetime(2013, 1, 1, tzinfo=dt.UTC)
# What Python and PostgreSQL both round-trip: years 1..9999 once in UTC.
FILTER_EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
FILTER_LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)
MAX_OFFSET = dt.timedelta(hours=14)  # the widest real UTC offset (Kiribati)
CLOCK_SKEW = dt.timedelta(days=1)


class Text(fields.String):
    """A string with nothing PostgreSQL would refuse (NUL, unpaired surrogates)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


USERNAME = FullMatch(r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$", error="not a Telegram username")


class TimestampField(fields.Field):
    """ISO 8601 (naive means UTC) or epoch milliseconds, with an offset within ±14:00.

    `message=True` bounds it to what a Telegram message can carry: not before
    2013, not more than a day ahead of this server's clock. Otherwise (query
    filters) any moment PostgreSQL and Python both represent is accepted.
    """

    default_error_messages = {
        "invalid": "Not an ISO 8601 date-time or epoch milliseconds.",
        "offset": "UTC offset must be within ±14:00.",
        "range": "Must be between {earliest} and {latest}.",
    }

    def __init__(self, *, message: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        parsed = self._parse(value)
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            raise self.make_error("offset")
        if self.message:
            earliest, latest = EARLIEST, dt.datetime.now(dt.UTC) + CLOCK_SKEW
        else:
            earliest, latest = FILTER_EARLIEST, FILTER_LATEST
        if not earliest <= parsed <= latest:
            raise self.make_error(
                "range",
                earliest=earliest.isoformat(timespec="seconds"),
                latest=latest.isoformat(timespec="seconds"),
            )
        return parsed

    def _parse(self, value: Any) -> dt.datetime:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str) and value.strip().isdigit():
            # A bare number is epoch milliseconds; short ones are refused rather than
            # read as a year ("2024") or as a moment in January 1970.
            if not 11 <= len(value.strip()) <= 20:
                raise self.make_error("invalid")
            try:
                value = int(value)
            except ValueError:  # str.isdigit() also takes digits int() refuses ("²")
                raise self.make_error("invalid") from None
        if isinstance(value, int | float):
            try:
                return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
            except (OverflowError, OSError, ValueError):
                raise self.make_error("invalid") from None
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise self.make_error("invalid") from None
        if len(text) < 10:  # fromisoformat accepts "2024"; a bare year is not a date
            raise self.make_error("invalid")
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.UTC)
        if parsed.utcoffset() is None:
            raise self.make_error("invalid")
        return parsed

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.isoformat() if value is not None else None


class ForwardedToSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    channelId = fields.Integer(required=True, strict=True, validate=CHANNEL_ID)
    messageId = fields.Integer(required=True, strict=True, validate=MESSAGE_ID)


class IngestMessageSchema(Schema):
    """One Telegram message as a producer (the gateway) sends it.

    Unknown fields are ignored rather than refused, so that a newer producer
    adding a field never loses messages against an older api.
    """

    class Meta:
        unknown = EXCLUDE

    channelId = fields.Integer(required=True, strict=True, validate=CHANNEL_ID)
    messageId = fields.Integer(required=True, strict=True, validate=MESSAGE_ID)
    timestamp = TimestampField(required=True, message=True)
    # NUL and lone surrogates in text are stored cleaned (app.api.ingest.storable_text).
    text = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))
    channelName = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=256)
    )
    editDate = TimestampField(load_default=None, allow_none=True, message=True)
    source = fields.String(load_default="user", validate=validate.OneOf(["user", "bot"]))
    forwardedTo = fields.Nested(ForwardedToSchema, load_default=None, allow_none=True)

    @validates_schema
    def _edit_after_post(self, data: dict[str, Any], **kwargs: Any) -> None:
        edit, posted = data.get("editDate"), data.get("timestamp")
        if edit is not None and posted is not None and edit < posted:
            raise ValidationError("editDate is earlier than timestamp", "editDate")


class IngestBatchSchema(Schema):
    class Meta:
        unknown = RAISE

    # Elements are checked one by one (app.api.ingest.prepare_batch): a bad one,
    # null included, is answered `invalid` without refusing the others.
    messages = fields.List(
        fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
    )


class SignalSchema(Schema):
    id = fields.Integer()
    channel_id = fields.Integer()
    channel_name = fields.String(allow_none=True)
    message_id = fields.Integer()
    ts = fields.DateTime()
    asset = fields.String()
    signal_type = fields.String()
    side = fields.String(metadata={"enum": ["buy", "sell"]})
    buy_min = fields.Float(allow_none=True)
    buy_max = fields.Float(allow_none=True)
    target_1 = fields.Float(allow_none=True)
    target_2 = fields.Float(allow_none=True)
    target_final = fields.Float(allow_none=True)
    targets = fields.List(fields.Float())
    stop = fields.Float(allow_none=True)
    raw_message = fields.String()
    source = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class IngestAnswerSchema(Schema):
    status = fields.String()
    duplicate = fields.Boolean()
    edited = fields.Boolean()
    parse = fields.Dict()
    signal = fields.Nested(SignalSchema, allow_none=True)


class MessageSchema(Schema):
    id = fields.Integer()
    channel_id = fields.Integer()
    channel_name = fields.String(allow_none=True)
    message_id = fields.Integer()
    ts = fields.DateTime()
    text = fields.String()
    edit_date = fields.DateTime(allow_none=True)
    source = fields.String()
    forwarded_to = fields.Dict(allow_none=True)
    parse_status = fields.String()
    parse_reason = fields.String(allow_none=True)
    version = fields.Integer()
    received_at = fields.DateTime()
    updated_at = fields.DateTime()
    deleted_at = fields.DateTime(allow_none=True)  # deleted in Telegram; the row is kept


class ListQuerySchema(Schema):
    """Filters shared by /signals and /messages."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    channel = Text(load_default=None, validate=validate.Length(max=256))
    type = Text(load_default=None, validate=validate.Length(max=64))
    asset = Text(load_default=None, validate=validate.Length(max=64))
    search = Text(load_default=None, validate=validate.Length(max=256))
    status = fields.String(
        load_default=None, validate=validate.OneOf(["signal", "not_signal", "invalid"])
    )
    cursor = Text(load_default=None, validate=validate.Length(max=200))
    from_ = TimestampField(data_key="from", load_default=None)
    to = TimestampField(load_default=None)

    @validates_schema
    def _range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("from is after to", "from")


class ForwardedQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    channelId = fields.Integer(load_default=None, validate=INT64)
    from_ = TimestampField(data_key="from", load_default=None)
    to = TimestampField(load_default=None)


class ReparseSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(
        load_default=None, validate=validate.OneOf(["signal", "not_signal", "invalid"])
    )
    channelId = fields.Integer(load_default=None, strict=True, validate=INT64)
    channel = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "a channel id or name (`@name` too), like GET /signals"},
    )
    from_ = TimestampField(data_key="from", load_default=None)
    to = TimestampField(load_default=None)
    limit = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=1, max=2**63 - 1)
    )
    dryRun = fields.Boolean(
        load_default=False,
        metadata={"description": "compute the summary in a transaction that is rolled back"},
    )

    @validates_schema
    def _one_channel(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("channel") is None:
            return
        if data.get("channelId") is not None:
            raise ValidationError("give channelId or channel, not both", "channel")
        try:
            channel_filter(data["channel"])
        except ValueError as exc:
            raise ValidationError(str(exc), "channel") from None


class ReparseReportSchema(Schema):
    """What a re-parse changed (the same summary `tpcap reparse` prints)."""

    status = fields.String(required=True)
    parserVersion = fields.Integer(required=True)
    dryRun = fields.Boolean(required=True)
    scanned = fields.Integer(required=True, metadata={"description": "messages read"})
    statusChanged = fields.Integer(
        required=True, metadata={"description": "messages whose parse status or reason changed"}
    )
    signalsCreated = fields.Integer(required=True, metadata={"description": "new signals"})
    signalsUpdated = fields.Integer(
        required=True, metadata={"description": "signals with at least one field changed"}
    )
    signalsRemoved = fields.Integer(
        required=True, metadata={"description": "signals whose message is no longer a signal"}
    )
    unchanged = fields.Integer(
        required=True, metadata={"description": "messages whose outcome did not change"}
    )
    keptDeleted = fields.Integer(
        required=True,
        metadata={"description": "signals a user deleted, read again but kept deleted"},
    )
    changedFields = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "per signal field, how many signals had it changed"},
    )
    byStatus = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "messages per new parse status"},
    )


class ChannelInSchema(Schema):
    class Meta:
        unknown = RAISE

    channel_id = fields.Integer(
        data_key="channelId", load_default=None, allow_none=True, strict=True, validate=CHANNEL_ID
    )
    username = Text(load_default=None, allow_none=True, validate=USERNAME)
    label = Text(required=True, validate=validate.Length(min=1, max=200))
    description = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    is_active = StrictBoolean(data_key="isActive", load_default=True)

    @validates_schema
    def _identified(self, data: dict[str, Any], partial: Any = None, **kwargs: Any) -> None:
        if not partial and data.get("channel_id") is None and not data.get("username"):
            raise ValidationError("give channelId or username", "channelId")


class ChannelSchema(Schema):
    id = fields.Integer()
    channelId = fields.Integer(attribute="channel_id", allow_none=True)
    username = fields.String(allow_none=True)
    label = fields.String()
    description = fields.String(allow_none=True)
    isActive = fields.Boolean(attribute="is_active")
    createdAt = fields.DateTime(attribute="created_at")
    updatedAt = fields.DateTime(attribute="updated_at")


class BotInSchema(Schema):
    class Meta:
        unknown = RAISE

    username = Text(required=True, validate=USERNAME)
    token = Text(
        required=True,
        validate=FullMatch(r"^[0-9]{5,12}:[A-Za-z0-9_-]{30,64}$", error="not a bot token"),
    )
    bot_type = fields.String(
        data_key="botType",
        load_default="ingestion",
        validate=validate.OneOf(["ingestion", "notification", "forwarder"]),
    )
    description = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    is_active = StrictBoolean(data_key="isActive", load_default=True)


class BotSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    tokenMasked = fields.String(attribute="token_masked")
    botType = fields.String(attribute="bot_type")
    description = fields.String(allow_none=True)
    isActive = fields.Boolean(attribute="is_active")
    createdAt = fields.DateTime(attribute="created_at")
    updatedAt = fields.DateTime(attribute="updated_at")


class ErrorSchema(Schema):
    error = fields.Dict()


MAX_DELETIONS = 1000


class DeletionSchema(Schema):
    class Meta:
        unknown = RAISE

    channelId = fields.Integer(required=True, strict=True, validate=INT64)
    messageId = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    deletedAt = fields.AwareDateTime(required=True)


class DeletionsSchema(Schema):
    """POST /ingest/deletions: channel messages deleted in Telegram."""

    class Meta:
        unknown = RAISE

    deletions = fields.List(
        fields.Nested(DeletionSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_DELETIONS),
    )
