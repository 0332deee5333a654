"""`tpcap parse`: the outcome and why, for one message or a JSONL file; no database."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from app.cli import main
from app.parsing import parse_signal
from app.reparse_cli import parse_since
from tests.support.messages import TP_SIGNAL


def test_one_message_as_argument_shows_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", TP_SIGNAL]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "signal"
    fields = dict(line.split(None, 1) for line in out[1:])
    assert fields["asset"] == "BOVAW32"
    assert fields["buy_min"] == "1.04" and fields["buy_max"] == "1.06"
    assert fields["targets"] == "1.15, 2.15, 3"
    assert fields["stop"] == "0.8"


def test_json_output_is_the_parsers_own_fields(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TP_SIGNAL))
    assert main(["parse", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"status": "signal", "signal": parse_signal(TP_SIGNAL).as_dict()}


def test_a_non_signal_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", "bom dia"]) == 0
    answer = json.loads(capsys.readouterr().out)
    expected = parse_signal("bom dia")
    assert answer == {"status": expected.status, "reason": expected.reason}  # type: ignore[union-attr]
    assert answer["reason"]


def test_jsonl_reports_each_line_and_names_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "channel.jsonl"
    lines = [
        json.dumps({"text": TP_SIGNAL, "channelId": -100123, "messageId": 7}),
        json.dumps("bom dia"),
        "{not json",
        "",
        json.dumps({"channelId": 1}),
        json.dumps([1, 2]),
        json.dumps({"text": TP_SIGNAL.replace("BOVAW32", "PETR4")}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["parse", "--jsonl", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    answers = [json.loads(line) for line in captured.out.splitlines()]
    assert [(a["line"], a["status"]) for a in answers] == [
        (1, "signal"),
        (2, parse_signal("bom dia").status),  # type: ignore[union-attr]
        (7, "signal"),
    ]
    assert answers[0]["channelId"] == -100123 and answers[0]["messageId"] == 7
    assert answers[2]["signal"]["asset"] == "PETR4"
    errors = captured.err.splitlines()
    assert errors[0].startswith(f"{path}:3: not JSON")
    assert errors[1] == f"{path}:5: `text` is missing or not a string"
    assert errors[2] == f"{path}:6: expected an object with `text` or a string, got list"
    assert errors[3].endswith("3 line(s) could not be read")


def test_jsonl_human_output_is_one_line_per_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"text": TP_SIGNAL, "messageId": 3}) + "\n", encoding="utf-8")
    assert main(["parse", "--jsonl", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{path}:1 messageId=3: signal: BOVAW32 buy entry 1.04-1.06 targets 1.15, 2.15, 3 "
        "stop 0.8 (Swing Trade)"
    )
    assert out[1] == "1 message(s): signal 1"


def test_unreadable_file_and_conflicting_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--jsonl", "/nonexistent/file.jsonl"]) == 2
    assert main(["parse", "text", "--jsonl", "x.jsonl"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "tpcap parse: cannot read /nonexistent/file.jsonl: No such file or directory",
        "tpcap parse: give a message or --jsonl FILE, not both",
    ]


NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW - dt.timedelta(days=30)),
        ("12h", NOW - dt.timedelta(hours=12)),
        ("90m", NOW - dt.timedelta(minutes=90)),
        ("2W", NOW - dt.timedelta(weeks=2)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
        ("2026-11-01T10:00:00Z", dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)),
        (
            "2026-11-01T10:00:00-03:00",
            dt.datetime(2026, 11, 1, 13, tzinfo=dt.UTC),
        ),
    ],
)
def test_since_is_iso_or_a_duration(text: str, expected: dt.datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "30", "30y", "", "999999999999d"])
def test_bad_since_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="--since"):
        parse_since(text, NOW)
