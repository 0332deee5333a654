"""Label typos, emoji between a label and its price, '@' entries, title-case tickers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.parsing import lexicon
from app.parsing.fuzzy import FuzzyLabels, deletions, within_one
from app.parsing.signals import NotASignal, Signal, parse_signal


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("target", "target", True),
        ("tarrget", "target", True),  # insertion
        ("trget", "target", True),  # deletion
        ("tagret", "target", True),  # swap of neighbours
        ("tarket", "target", True),  # substitution
        ("tagrte", "target", False),  # two swaps
        ("targ", "target", False),
        ("stoplos", "stoploss", True),
    ],
)
def test_within_one_is_the_osa_distance_one(a: str, b: str, near: bool) -> None:
    assert within_one(a, b) is near
    assert within_one(b, a) is near


def test_deletions_hold_the_word_and_each_one_letter_deletion() -> None:
    assert deletions("stop") == {"stop", "top", "sop", "stp", "sto"}


def test_a_typo_maps_to_its_label_only_when_no_other_word_is_as_near() -> None:
    fuzzy = FuzzyLabels({"target": "target", "entry": "entry"}, ["entre"], ["taken"])
    assert fuzzy.correct("targte") == "target"
    assert fuzzy.correct("entryy") == "entry"
    assert fuzzy.correct("entra") is None  # as near to the filler "entre" as to "entry"
    assert fuzzy.correct("taken") is None  # a common word is never a typo
    assert fuzzy.correct("targ") is None  # under five letters


def test_the_builtin_index_reads_typos_of_every_language_but_not_common_words() -> None:
    fuzzy = lexicon.active().fuzzy
    assert fuzzy.correct("tarrget") == "target"
    assert fuzzy.correct("stoplos") == "stoploss"
    assert fuzzy.correct("hedeef") == "hedef"
    assert fuzzy.correct("exist") is None
    assert fuzzy.correct("metal") is None


def _fields_named(text: str, names: dict[str, object]) -> dict[str, object]:
    """The parsed fields that ``names`` lists (a held-out kind checks only its own fields)."""
    fields = _fields(text)
    return {k: fields[k] for k in names}


def _fields(text: str) -> dict[str, object]:
    got = parse_signal(text)
    assert isinstance(got, Signal), got
    return got.as_dict()


@pytest.mark.parametrize(
    ("text", "targets", "stop", "entry"),
    [
        ("EURUSD BUY 1.0850\nTarrget 1.0900\nStop-los 1.0800", [1.09], 1.08, 1.085),
        (
            "GBPUSD SELL\nEntryy 1.2700\nTagret 1 1.2650\nTagret 2 1.2600\nStop los 1.2750",
            [1.265, 1.26],
            1.275,
            1.27,
        ),
        ("XAUUSD BUY 2340\nTp 1 ✅ 2351\nTp 2 ✅ 2360\nSL ⛔ 2330", [2351, 2360], 2330, 2340),
        ("XAUUSD SELL\nEntry ⏩ 177.45\nTP ➡️ 176.90\nSL ⛔ 177.95", [176.9], 177.95, 177.45),
        ("EURUSD BUY\n✅ Entry: 1.8050\n✅ TP1: 1.8080\n✅ SL: 1.8020", [1.808], 1.802, 1.805),
        ("GBPAUD SELL\n🎯 Entry: 1.8120\n🎯 TP1: 1.8080\n🛑 SL: 1.8160", [1.808], 1.816, 1.812),
        ("EURUSD @ 1.0850 / TP 1.0880 / SL 1.0830", [1.088], 1.083, 1.085),
        (
            "EURUSD compra 1,0850\nTomar ganancias: 1,0900\nParar pérdida: 1,0800",
            [1.09],
            1.08,
            1.085,
        ),
    ],
    ids=[
        "typos",
        "typos-indexed",
        "mark-before-price",
        "arrows",
        "bullets",
        "label-wins",
        "at-price",
        "es-multiword",
    ],
)
def test_new_formats(text: str, targets: list[float], stop: float, entry: float) -> None:
    got = _fields(text)
    assert (got["targets"], got["stop"], got["buy_min"], got["buy_max"]) == (
        targets,
        stop,
        entry,
        entry,
    )


def test_at_price_side_comes_from_the_targets() -> None:
    assert _fields("EURUSD @ 1.0850\nTP 1.0820\nSL 1.0880")["side"] == "sell"


@pytest.mark.parametrize(
    "text", ["Petr4\nCompra: 36,20\nAlvo: 38,00", "Ativo: Petr4\nCompra: 36,20"]
)
def test_title_case_b3_ticker(text: str) -> None:
    assert _fields(text)["asset"] == "PETR4"


@pytest.mark.parametrize(
    "text",
    [
        "XAUUSD TP1 2351 ✅",
        "EURUSD\nTP1 1.0900 ✅\nTP2 1.0950 ✅",
        "GOLD BUY 2341\nTP1 2345 ✅ +40 pips\nTP2 2350 ✅",
        "Closed EURUSD @ 1.0880 +30 pips",
        "The stops are tight, expect the taken profits at 10 am",
    ],
)
def test_reports_and_prose_stay_non_signals(text: str) -> None:
    assert isinstance(parse_signal(text), NotASignal)


def test_a_ticked_target_beside_an_unmarked_entry_and_stop_is_still_the_signal() -> None:
    got = _fields("EURUSD BUY 1.0850\nTP1 1.0900 ✅\nTP2 1.0950\nSL 1.0800")
    assert (got["target_1"], got["target_2"], got["stop"]) == (1.09, 1.095, 1.08)


def test_an_operator_file_adds_common_words_and_checks_their_type(tmp_path: Path) -> None:
    good = tmp_path / "words.toml"
    good.write_text('common_words = ["tarrget"]\n', encoding="utf-8")
    assert lexicon.load_lexicon(good).fuzzy.correct("tarrget") is None
    bad = tmp_path / "bad.toml"
    bad.write_text('decimal = "dot"\ncommon_words = "tarrget"\n', encoding="utf-8")
    with pytest.raises(lexicon.LexiconError, match=r"bad.toml, line 2: 'common_words' must be"):
        lexicon.load_lexicon(bad)


# A second held-out round (158 messages written apart from the parser) missed four kinds,
# written here in other words.
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (  # "sat" after a coin's prices: satoshis, not Turkish "sat" (sell)
            "#ADA/BTC\nEntry: 880 - 900 sat\nTP1: 950 sat\nSL: 840 sat",
            {"asset": "ADABTC", "side": "buy", "buy_min": 0.0000088, "stop": 0.0000084},
        ),
        (  # "sat" after a forex price: Turkish sell, and no satoshis for a currency pair
            "EURUSD 1.0850 SAT\nHedef 1: 1.0820\nStop: 1.0880",
            {"asset": "EURUSD", "side": "sell", "buy_min": 1.085, "stop": 1.088},
        ),
        (  # a line's "T:" is a target label, as "T1" is
            "#ARB/USDT\nLong entry: 1.80-1.86\nT: 2.10 | 2.25 | 2.50\nSL: 1.70",
            {"asset": "ARBUSDT", "side": "buy", "targets": [2.1, 2.25, 2.5], "stop": 1.7},
        ),
        (  # a lead-in before the colon, a market word and the price it was given at
            "Market execution: SELL GBPUSD at 1.2650, SL 1.2700, TP 1.2580",
            {"asset": "GBPUSD", "side": "sell", "buy_min": 1.265, "target_final": 1.258},
        ),
    ],
)
def test_second_round_kinds(text: str, expect: dict[str, object]) -> None:
    assert _fields_named(text, expect) == expect


@pytest.mark.parametrize(
    "text",
    [
        "T: 10:30 London open, watching gold",
        "Satoshi scale: 1 BTC = 100000000 sat",
        "Reminder: buy the dip, sell the rip",
    ],
)
def test_second_round_near_misses_stay_non_signals(text: str) -> None:
    assert isinstance(parse_signal(text), NotASignal)


# A third held-out round (260 messages, written apart from the parser: 245 right unseen, 2
# non-signals read as signals) missed these kinds, written here in other words.
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (  # prose around the signal mentioning closes and stops is chatter, not a notice
            "Morning all! On Friday we closed the week with +210 pips in total, nice work "
            "everyone\n\nNZDUSD BUY 0.6010\nTP1 0.6040\nTP2 0.6075\nSL 0.5985\n\n"
            "the stop on last week's cable trade got hit by a couple of pips, no worries",
            {"asset": "NZDUSD", "side": "buy", "buy_min": 0.601, "stop": 0.5985},
        ),
        (  # three dots join an entry range
            "GER40 BUY 18210...18240\ntp 18320\nsl 18150",
            {"asset": "GER40", "buy_min": 18210, "buy_max": 18240},
        ),
        (  # a cross mark before a price stands for the stop
            "AUDCAD\nBUY\n0.9020\n🎯 0.9050 • 0.9080\n❌ 0.8990",
            {"asset": "AUDCAD", "side": "buy", "stop": 0.899, "targets": [0.905, 0.908]},
        ),
        (  # a frequent short misspelling of "sell"
            "gbpusd sel 1.2650\ntp 1.2620\nsl 1.2680",
            {"asset": "GBPUSD", "side": "sell", "buy_min": 1.265},
        ),
        (  # Portuguese gerund and a market word with the price
            "US30 comprando agora em 39.100\ntp 39.300\nsl 38.950",
            {"asset": "US30", "side": "buy", "buy_min": 39100, "stop": 38950},
        ),
        (  # Spanish gerund
            "ORO vendiendo 2380\nTP 2368\nSL 2391",
            {"asset": "XAUUSD", "side": "sell", "buy_min": 2380, "stop": 2391},
        ),
    ],
)
def test_third_round_kinds(text: str, expect: dict[str, object]) -> None:
    assert _fields_named(text, expect) == expect


@pytest.mark.parametrize(
    "text",
    [
        # every entry and target ticked, only the stop not: a report on an earlier signal
        "EURCHF\nSELL 0.9650 ✅\nTP1 0.9620 ✅\nTP2 0.9590 ✅\nSL 0.9690",
        # a result, then only a later target and no stop: the progress of an earlier signal
        "#SOLUSDT up +3.1% 📈\nEntry 151.2 → now 155.9\nTP3 158.0 is next",
        # a short notice still wins over a quoted signal
        "Signal cancelled\nEURUSD BUY 1.0850\nTP 1.0900\nSL 1.0800",
    ],
)
def test_third_round_notices_stay_non_signals(text: str) -> None:
    assert isinstance(parse_signal(text), NotASignal)


# A fourth held-out round (207 messages, written apart from the parser: 193 right unseen, 1
# non-signal read as a signal) missed these kinds, written here in other words.
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (  # a coin under a thousand has no thousands mark, whatever the language
            "#APT/USDT\nYön: LONG\nGiriş: 8.415 - 8.520\nHedef: 8.760 / 9.040\nStop: 8.190",
            {"asset": "APTUSDT", "buy_min": 8.415, "buy_max": 8.52, "stop": 8.19},
        ),
        (  # ... but Bitcoin is priced in thousands
            "BTC/USDT\nCompra: 61.200 - 61.800\nAlvo: 63.500\nStop: 59.900",
            {"asset": "BTCUSDT", "buy_min": 61200, "buy_max": 61800, "stop": 59900},
        ),
        (  # an index name holding a number: the number is no price
            "FTSE 100 sell now 🎯 8190 🎯 8150 ❌ 8262",
            {"asset": "UK100", "side": "sell", "buy_min": None, "stop": 8262},
        ),
        (  # a pair names the coin more fully than its name
            "Ethereum (ETH/USDT) buy 3050 - 3090\nTargets: 3200, 3320\nStop: 2960",
            {"asset": "ETHUSDT", "buy_min": 3050, "buy_max": 3090},
        ),
        (  # prices followed by BTC: the coin's BTC pair
            "#UNI\nBuy: 0.000118 - 0.000121 BTC\nTP: 0.000130\nSL: 0.000110",
            {"asset": "UNIBTC", "buy_min": 0.000118, "stop": 0.00011},
        ),
        (  # Russian satoshis
            "#ADA/BTC покупка 700-720 сат, цель 780 сат, стоп 660 сат",
            {"asset": "ADABTC", "buy_min": 0.000007, "stop": 0.0000066},
        ),
        (  # MetaTrader's "Open:" is the entry
            "Order: Buy Limit\nSymbol: USDCHF\nOpen: 0.9010\nSL: 0.8980\nTP: 0.9060",
            {"asset": "USDCHF", "side": "buy", "buy_min": 0.901},
        ),
        (  # "TP's:" inline
            "GER40 BUY 18300 TP's: 18360 - 18420 SL: 18240",
            {"asset": "GER40", "buy_min": 18300, "targets": [18360, 18420]},
        ),
        (  # Spanish "pare de pérdidas"; Persian stepwise entries
            "Vendiendo US30 en 39400\nToma de ganancias: 39250\nPare de pérdidas: 39520",
            {"asset": "US30", "side": "sell", "stop": 39520},
        ),
        (
            "خرید پله ای #SOL\nپله اول: 150\nپله دوم: 144\nاهداف: 162 / 170\nحد ضرر: 138",
            {"asset": "SOL", "buy_min": 144, "buy_max": 150, "stop": 138},
        ),
    ],
)
def test_fourth_round_kinds(text: str, expect: dict[str, object]) -> None:
    assert _fields_named(text, expect) == expect


@pytest.mark.parametrize(
    "text",
    [
        "Modify order: GBPUSD sell, new S/L 1.2690 (entry), T/P unchanged",
        # a long recap line with hits and stop-outs, then no signal
        "Quick recap of the day: EURUSD hit TP1 ✅ (+30 pips), GBPUSD stopped out ❌ (-20). "
        "Overall a calm session",
    ],
)
def test_fourth_round_notices_stay_non_signals(text: str) -> None:
    assert isinstance(parse_signal(text), NotASignal)


# A fifth held-out round (248 messages, written apart from the parser: 237 right unseen, 1
# non-signal read as a signal) missed these kinds, written here in other words.
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (  # a tag and a spaced quote
            "#OP USDT\nSide: Sell\nEntry zone: 2.41-2.46\nTP: 2.32, 2.24\nSL: 2.53",
            {"asset": "OPUSDT", "side": "sell", "buy_min": 2.41},
        ),
        (  # a bot's "... Orders:" labels, each followed by bullet lines
            "Pair: AVAXUSDT\nEntry Orders:\n • 36.10\n • 35.40\nTake Profit Orders:\n • 37.20\n"
            " • 38.50\nStop-Loss Orders:\n • 34.20",
            {"asset": "AVAXUSDT", "buy_min": 35.4, "buy_max": 36.1, "stop": 34.2},
        ),
        (  # the asset on a short header line wins over one named in the chatter above
            "Bitcoin held 60k nicely this week and alts are finally waking up, so here is one\n\n"
            "#FET/USDT\nCompra: 2,10 a 2,18\nAlvos: 2,40 / 2,65\nStop: 1,95",
            {"asset": "FETUSDT", "buy_min": 2.1, "buy_max": 2.18},
        ),
        (  # MetaTrader's volume before the symbol
            "#55120387 sell 1.00 GBPUSD at 1.26510 sl: 1.26900 tp: 1.25800",
            {"asset": "GBPUSD", "side": "sell", "buy_min": 1.2651, "stop": 1.269},
        ),
        (  # Russian "Цена:" is the entry; Spanish "obj"
            "📈 EURJPY\nТип: Buy Limit\nЦена: 162.40\nStop Loss: 161.90\nTake Profit: 163.50",
            {"asset": "EURJPY", "side": "buy", "buy_min": 162.4},
        ),
        (
            "DOW 🔺 compra 39.200 obj 39.450 stop 39.050",
            {"asset": "US30", "side": "buy", "buy_min": 39200, "targets": [39450]},
        ),
    ],
)
def test_fifth_round_kinds(text: str, expect: dict[str, object]) -> None:
    assert _fields_named(text, expect) == expect


def test_levels_of_two_instruments_are_no_signal() -> None:
    # a recap naming gold's entry and a euro stop: a stop 2000 times below the entry
    text = (
        "What a week: gold ran from 2305 to 2360 and all targets hit on Monday's buy from 2312. "
        "EURUSD was slow, one stop at 1.0790."
    )
    assert isinstance(parse_signal(text), NotASignal)
