"""Request-body decoding: the orjson fast path answers exactly as the standard decoder."""

from __future__ import annotations

import pytest

from app.web import jsonutil

SAME_VALUE = [
    b'{"channelId": -1001234567890, "messageId": 7, "text": "\xf0\x9f\x9f\xa2 Stop: 0,80"}',
    b'{"messageId": 123456789012345678901234567890}',  # orjson alone: a float
    b"[1.5, 18446744073709551616, -9223372036854775809]",
    b'"\\ud800"',  # a lone surrogate: orjson refuses, the standard decoder takes it
    b'{"a": "x\\u0000y", "a": 2}',
    b"\xef\xbb\xbf{}",
    '{"a": 1}'.encode("utf-16"),
]
SAME_ERROR = [b"1e400", b"[NaN]", b"\xff", b"[" * 5000, b"", b'{"a":1} x', b"1" * 5000]


@pytest.mark.parametrize("body", SAME_VALUE)
def test_fast_path_decodes_as_the_standard_decoder(body: bytes) -> None:
    assert jsonutil.loads(bytearray(body)) == jsonutil.strict_loads(body)
    assert type(jsonutil.loads(body)) is type(jsonutil.strict_loads(body))


def test_integers_past_64_bits_stay_exact() -> None:
    value = jsonutil.loads(b'{"messageId": 123456789012345678901234567890}')
    assert value == {"messageId": 123456789012345678901234567890}


@pytest.mark.parametrize("body", SAME_ERROR)
def test_bad_bodies_get_the_standard_error(body: bytes) -> None:
    with pytest.raises(jsonutil.BadJson) as fast:
        jsonutil.loads(body)
    with pytest.raises(jsonutil.BadJson) as strict:
        jsonutil.strict_loads(body)
    assert str(fast.value) == str(strict.value)
