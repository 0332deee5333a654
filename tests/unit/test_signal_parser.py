"""Table-driven tests for app.parsing.signals.parse_signal (pure, no I/O)."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.parsing.signals import (
    MAX_MESSAGE_CHARS,
    PARSER_VERSION,
    SIGNAL_TYPES,
    NotASignal,
    Signal,
    parse_signal,
)

_AUTO: Any = object()


def expect(
    asset: str,
    side: str,
    entry: str,
    targets: tuple[str, ...] = (),
    stop: str | None = None,
    *,
    kind: str = "Unspecified",
    t1: str | None = _AUTO,
    t2: str | None = _AUTO,
    final: str | None = _AUTO,
    labelled_final: bool = False,
) -> dict[str, Any]:
    """Expected signal; entry is "low-high" or one price, "" for a market order.

    Targets by default: the 1st and 2nd are target_1 and target_2, the last is final (what
    unnumbered targets and TP1/TP2/... lines give); labelled finals override these.
    """
    low, _, high = entry.partition("-")
    rest = targets[:-1] if labelled_final else targets
    return {
        "asset": asset,
        "signal_type": kind,
        "side": side,
        "buy_min": low or None,
        "buy_max": high or low or None,
        "targets": targets,
        "stop": stop,
        "target_1": (rest[0] if rest else None) if t1 is _AUTO else t1,
        "target_2": (rest[1] if len(rest) > 1 else None) if t2 is _AUTO else t2,
        "target_final": (targets[-1] if targets else None) if final is _AUTO else final,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def assert_signal(text: str, want: dict[str, Any]) -> Signal:
    got = parse_signal(text)
    assert isinstance(got, Signal), got
    assert got.asset == want["asset"]
    assert got.signal_type == want["signal_type"]
    assert got.side == want["side"]
    # str() of a Decimal is exact: value and written precision ("3.00", "64250").
    assert _text(got.buy_min) == want["buy_min"]
    assert _text(got.buy_max) == want["buy_max"]
    assert tuple(str(t) for t in got.targets) == want["targets"]
    assert _text(got.stop) == want["stop"]
    assert _text(got.target_1) == want["target_1"]
    assert _text(got.target_2) == want["target_2"]
    assert _text(got.target_final) == want["target_final"]

    as_json = json.loads(json.dumps(got.as_dict()))

    def as_float(value: str | None) -> float | None:
        return None if value is None else float(value)

    assert as_json == {
        "asset": want["asset"],
        "signal_type": want["signal_type"],
        "side": want["side"],
        "buy_min": as_float(want["buy_min"]),
        "buy_max": as_float(want["buy_max"]),
        "targets": [float(t) for t in want["targets"]],
        "target_1": as_float(want["target_1"]),
        "target_2": as_float(want["target_2"]),
        "target_final": as_float(want["target_final"]),
        "stop": as_float(want["stop"]),
    }
    return got


TPC = (
    "🟢Swing Trade\n\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nAlvo 2: 2,15\n"
    "Alvo final: 3,00\nStop: 0,80"
)
TPC_WANT = expect(
    "BOVAW32", "buy", "1.04-1.06", ("1.15", "2.15", "3.00"), "0.80", kind="Swing Trade"
)

# ------------------------------------------------------------------ TP Capital (Portuguese)

TP_CAPITAL_CASES = [
    pytest.param(TPC, TPC_WANT, id="tpc-canonical"),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,05\nAlvo 1: 1,15\nAlvo final: 3,00\nStop: 0,80",
        expect(
            "BOVAW32",
            "buy",
            "1.05",
            ("1.15", "3.00"),
            "0.80",
            kind="Swing Trade",
            labelled_final=True,
        ),
        id="tpc-single-entry-price",
    ),
    pytest.param(
        "🔵DAY TRADE\nATIVO: PETR4\nCOMPRA: 38,50 A 38,90\nALVO 1: 39,50\nALVO FINAL: 41,00\n"
        "STOP: 37,80",
        expect(
            "PETR4",
            "buy",
            "38.50-38.90",
            ("39.50", "41.00"),
            "37.80",
            kind="Day Trade",
            labelled_final=True,
        ),
        id="tpc-upper-case-day-trade",
    ),
    pytest.param(
        "🟢swing trade\nativo: bovaw32\ncompra: 1,04 a 1,06\nalvo 1: 1,15\nalvo final: 3,00\n"
        "stop: 0,80",
        expect(
            "BOVAW32",
            "buy",
            "1.04-1.06",
            ("1.15", "3.00"),
            "0.80",
            kind="Swing Trade",
            labelled_final=True,
        ),
        id="tpc-lower-case",
    ),
    pytest.param(
        "🟡Posição\n\nAtivo: VALE3\nCompra: 62,10\nAlvo 1: 65,00\nAlvo 2: 68,00\n"
        "Alvo final: 72,50\nStop: 58,00",
        expect("VALE3", "buy", "62.10", ("65.00", "68.00", "72.50"), "58.00", kind="Position"),
        id="tpc-posicao",
    ),
    pytest.param(
        "Position\nAtivo: WEGE3\nCompra: 40,00\nAlvo final: 48,00\nStop: 36,00",
        expect("WEGE3", "buy", "40.00", ("48.00",), "36.00", kind="Position", labelled_final=True),
        id="tpc-position-english",
    ),
    pytest.param(
        "\n\n  🟢  Swing Trade  \n\n\n   Ativo :   BOVAW32   \n\n Compra :  1,04   a   1,06 \n\n"
        " Alvo 1 :  1,15\n\nAlvo final :3,00\n\n\nStop:0,80\n\n",
        expect(
            "BOVAW32",
            "buy",
            "1.04-1.06",
            ("1.15", "3.00"),
            "0.80",
            kind="Swing Trade",
            labelled_final=True,
        ),
        id="tpc-extra-blank-lines-and-spaces",
    ),
    pytest.param(
        "🟢Swing Trade\n📌 Ativo: BOVAW32\n💰 Compra: 1,04 a 1,06\n🎯 Alvo 1: 1,15\n"
        "🎯 Alvo 2: 2,15\n🏁 Alvo final: 3,00\n🛑 Stop: 0,80",
        TPC_WANT,
        id="tpc-emoji-bullets",
    ),
    pytest.param(
        "**🟢Swing Trade**\n\n**Ativo:** BOVAW32\n**Compra:** 1,04 a 1,06\n__Alvo 1:__ 1,15\n"
        "__Alvo 2:__ 2,15\n__Alvo final:__ 3,00\n`Stop:` 0,80",
        TPC_WANT,
        id="tpc-markdown",
    ),
    pytest.param(
        "*Ativo:* _BOVAW32_\n*Compra:* 1,04 a 1,06\n*Stop:* 0,80",
        expect("BOVAW32", "buy", "1.04-1.06", (), "0.80"),
        id="tpc-italic-markdown-stop-only",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 - 1,06\nAlvo 1: 1,15\nAlvo 2: 2,15\n"
        "Alvo final: 3,00\nStop: 0,80",
        TPC_WANT,
        id="tpc-dash-range",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 – 1,06\nAlvo 1: 1,15\nAlvo 2: 2,15\n"
        "Alvo final: 3,00\nStop: 0,80",
        TPC_WANT,
        id="tpc-en-dash-range",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nAlvo final: 3,00\nStop: 0,80",
        expect("BOVAW32", "buy", "1.04-1.06", ("1.15", "3.00"), "0.80", labelled_final=True),
        id="tpc-no-type-line",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo final: 3,00\nStop: 0,80",
        expect(
            "BOVAW32",
            "buy",
            "1.04-1.06",
            ("3.00",),
            "0.80",
            kind="Swing Trade",
            labelled_final=True,
        ),
        id="tpc-only-final-target",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nAlvo 2: 2,15\n"
        "Stop: 0,80",
        expect(
            "BOVAW32",
            "buy",
            "1.04-1.06",
            ("1.15", "2.15"),
            "0.80",
            kind="Swing Trade",
            t1="1.15",
            t2="2.15",
            final="2.15",
        ),
        id="tpc-alvo-1-2-no-final-fills-target-2-and-final",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo final: 3,00\nAlvo 1: 1,15\n"
        "Alvo 2: 2,15\nStop: 0,80",
        expect(
            "BOVAW32",
            "buy",
            "1.04-1.06",
            ("3.00", "1.15", "2.15"),
            "0.80",
            kind="Swing Trade",
            t1="1.15",
            t2="2.15",
            final="3.00",
        ),
        id="tpc-final-written-first",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nAlvo final: 3,00",
        expect("BOVAW32", "buy", "1.04-1.06", ("1.15", "3.00"), labelled_final=True),
        id="tpc-no-stop",
    ),
    pytest.param(
        "🔴Day Trade\nativo: petr4\nvenda: 38,50\nalvo 1: 37,80\nalvo final: 36,90\nstop: 39,20",
        expect(
            "PETR4",
            "sell",
            "38.50",
            ("37.80", "36.90"),
            "39.20",
            kind="Day Trade",
            labelled_final=True,
        ),
        id="tpc-venda-sell",
    ),
    pytest.param(
        "Ativo: BBAS3\nCompra: R$ 27,50\nAlvo: R$ 30,00\nStop: R$ 26,00",
        expect("BBAS3", "buy", "27.50", ("30.00",), "26.00"),
        id="tpc-currency-prefix",
    ),
    pytest.param(
        "Ativo: PETR4\nCompra: 38,50 (fechamento)\nAlvo 1: 40,00 (+4%)\nAlvo 2: 42,00 (+9%)\n"
        "Stop: 36,90 (-4%)",
        expect("PETR4", "buy", "38.50", ("40.00", "42.00"), "36.90"),
        id="tpc-parenthesised-notes",
    ),
    pytest.param(
        "Obs: risco alto 2%\nGerenciamento: 1% do capital\nAtivo: ABCD3\nCompra: 10\nAlvo: 12\n"
        "Stop: 9",
        expect("ABCD3", "buy", "10", ("12",), "9"),
        id="tpc-notes-lines-ignored",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvos: 1,15 / 2,15 / 3,00\nStop: 0,80",
        TPC_WANT,
        id="tpc-alvos-slash-list",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 1,00\nAlvos: 1,15 2,15 3,00",
        expect("ABCD3", "buy", "1.00", ("1.15", "2.15", "3.00")),
        id="tpc-alvos-space-list",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra entre 1,04 e 1,06\nAlvo: 1,20\nStop: 0,90",
        expect("ABCD3", "buy", "1.04-1.06", ("1.20",), "0.90"),
        id="tpc-compra-entre-e",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1️⃣ 1,15\nAlvo 2️⃣ 2,15\nStop: 0,80",
        expect("BOVAW32", "buy", "1.04-1.06", ("1.15", "2.15"), "0.80", kind="Swing Trade"),
        id="tpc-keycap-indexes",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 10\nAlvo 1: 12 Alvo 2: 14 Alvo final: 16\nStop: 9",
        expect("ABCD3", "buy", "10", ("12", "14", "16"), "9"),
        id="tpc-targets-on-one-line",
    ),
    pytest.param(
        "PETR4 - Compra\nEntrada: 38,50\nAlvo: 40,00\nStop: 37,00",
        expect("PETR4", "buy", "38.50", ("40.00",), "37.00"),
        id="tpc-ticker-in-header",
    ),
    pytest.param(
        "Ativo: ABCD3\nEntrada: 10 / 9,50 / 9\nAlvo: 12\nStop: 8",
        expect("ABCD3", "buy", "9-10", ("12",), "8"),
        id="tpc-several-entries-min-max",
    ),
    pytest.param(
        "Sinal de venda\nAtivo: WDOZ24\nEntrada: 5.850\nAlvo: 5.800\nStop: 5.880",
        expect("WDOZ24", "sell", "5850", ("5800",), "5880"),
        id="tpc-sell-header-portuguese-thousands",
    ),
    pytest.param(
        "Ativo: PETR4\nCompra: 38,50\nVenda: 41,00\nStop: 37,00",
        expect("PETR4", "buy", "38.50", ("41.00",), "37.00"),
        id="tpc-compra-venda-exit-is-target",
    ),
    pytest.param(
        "Ativo: PETR4\nCompra: 38,50\nStop gain: 41,00\nStop: 37,00",
        expect("PETR4", "buy", "38.50", ("41.00",), "37.00"),
        id="tpc-stop-gain-is-target",
    ),
    pytest.param(
        "🟢Swing Trade\n\nAtivo: PETR4\nCompra: 36,20",
        expect("PETR4", "buy", "36.20", kind="Swing Trade"),
        id="tpc-issue-entry-only-ativo-compra-is-a-signal",
    ),
    pytest.param(
        "Ativo: VALE3\nCompra: 61,50 a 62,10",
        expect("VALE3", "buy", "61.50-62.10"),
        id="tpc-issue-entry-only-range",
    ),
    pytest.param(
        "🟢Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15",
        expect("BOVAW32", "buy", "1.04-1.06", ("1.15",), kind="Swing Trade", t1="1.15", t2=None),
        id="tpc-issue-alvo-1-only-fills-target-1-and-final",
    ),
    pytest.param(
        "Ativo: WEGE3\nCompra: 38,00 a 38,40\nAlvo 1: 40,00\nAlvo 2: 42,50\nStop: 36,00",
        expect("WEGE3", "buy", "38.00-38.40", ("40.00", "42.50"), "36.00"),
        id="tpc-issue-alvo-1-2-fills-target-2",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: a mercado\nAlvo 1: 1,15\nStop: 0,80",
        expect("BOVAW32", "buy", "", ("1.15",), "0.80", t2=None),
        id="tpc-market-order-no-entry-price",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 10\nAlvos:\n🎯 11\n🎯 12,5\nStop: 9",
        expect("ABCD3", "buy", "10", ("11", "12.5"), "9"),
        id="tpc-alvos-on-following-lines",
    ),
    pytest.param(
        "Realizar parcial no alvo 1\nAtivo: ITSA4\nCompra: 10,00\nAlvo: 11,00\nStop: 9,50",
        expect("ITSA4", "buy", "10.00", ("11.00",), "9.50"),
        id="tpc-management-advice-in-new-signal",
    ),
    pytest.param(
        "Após atingir o alvo 1, mover stop para entrada\nAtivo: ITSA4\nCompra: 10,00\n"
        "Alvo: 11,00\nStop: 9,50",
        expect("ITSA4", "buy", "10.00", ("11.00",), "9.50"),
        id="tpc-conditional-instruction-in-new-signal",
    ),
]

# ------------------------------------------------------------------ crypto / forex / stocks

OTHER_FORMAT_CASES = [
    pytest.param(
        "#BTCUSDT LONG\nEntry: 64,250 - 64,500\nTP1: 65,000\nTP2: 66,000\nTP3: 67,500\n"
        "SL: 63,000\nLeverage: 10x",
        expect("BTCUSDT", "buy", "64250-64500", ("65000", "66000", "67500"), "63000"),
        id="crypto-hashtag-long-tp-list",
    ),
    pytest.param(
        "📉 SHORT ETH/USDT\nEntry zone: 3200 – 3250\nTargets: 3100, 3000, 2900\nStop loss: 3350",
        expect("ETHUSDT", "sell", "3200-3250", ("3100", "3000", "2900"), "3350"),
        id="crypto-short-header-targets-comma-list",
    ),
    pytest.param(
        "BTC/USDT Entry 64000 TP 65000 SL 63000",
        expect("BTCUSDT", "buy", "64000", ("65000",), "63000"),
        id="crypto-one-line",
    ),
    pytest.param(
        "Coin: #SOL/USDT\nBuy zone: 145 to 150\nTP1 160 TP2 170 TP3 180 TP4 190 TP5 200\nSL 135",
        expect(
            "SOLUSDT",
            "buy",
            "145-150",
            ("160", "170", "180", "190", "200"),
            "135",
            t1="160",
            t2="170",
            final="200",
        ),
        id="crypto-tp1-to-tp5-one-line",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 64000\nTargets:\n1) 65000\n2) 66000\n3) 67000\nSL: 62000",
        expect("BTCUSDT", "buy", "64000", ("65000", "66000", "67000"), "62000"),
        id="crypto-targets-enumerated-lines",
    ),
    pytest.param(
        "1️⃣ BTC/USDT\nEntry: 100\nTargets\n1️⃣ 110\n2️⃣ 120\nSL: 90",
        expect("BTCUSDT", "buy", "100", ("110", "120"), "90"),
        id="crypto-targets-keycap-lines",
    ),
    pytest.param(
        "🚀 Scalp #DOGEUSDT\nBuy: 0.1500/0.1520\nTargets: 0.1550, 0.1600, 0.1650\nSL: 0.1450",
        expect(
            "DOGEUSDT",
            "buy",
            "0.1500-0.1520",
            ("0.1550", "0.1600", "0.1650"),
            "0.1450",
            kind="Scalp",
        ),
        id="crypto-slash-range-scalp",
    ),
    pytest.param(
        "SHIB/USDT\nBuy: 0.00001234\nTargets:\n1) 0.0000130\n2) 0.0000140\nSL: 0.0000115",
        expect("SHIBUSDT", "buy", "0.00001234", ("0.0000130", "0.0000140"), "0.0000115"),
        id="crypto-tiny-decimals",
    ),
    pytest.param(
        "Futures (Isolated)\n#ETHUSDT SHORT 🔻\nEntry zone: 3,250 - 3,300\nTake Profit 1: 3,150\n"
        "Take Profit 2: 3,050\nTake Profit 3: 2,950\nStoploss: 3,400\nLeverage: 20x cross",
        expect("ETHUSDT", "sell", "3250-3300", ("3150", "3050", "2950"), "3400", kind="Futures"),
        id="crypto-futures-take-profit-n-stoploss",
    ),
    pytest.param(
        "#SPOT\n$LINK\nEntry: 14.20\nTarget: 16.00",
        expect("LINK", "buy", "14.20", ("16.00",), kind="Spot"),
        id="crypto-spot-hashtag",
    ),
    pytest.param(
        "Position: Long\nSymbol: XAUUSD\nEntry price: 2,350.5\nTP 1: 2,360\nTP 2: 2,375\n"
        "TP final: 2,400\nStop-Loss: 2,340",
        expect("XAUUSD", "buy", "2350.5", ("2360", "2375", "2400"), "2340", labelled_final=True),
        id="gold-position-side-meta-tp-final",
    ),
    pytest.param(
        "S/L: 90\nEntry: 100\nTP1: 110\nFinal target: 130\nTP2: 120\nPair: BTC/USDT",
        expect(
            "BTCUSDT",
            "buy",
            "100",
            ("110", "130", "120"),
            "90",
            t1="110",
            t2="120",
            final="130",
        ),
        id="crypto-final-target-label-any-order",
    ),
    pytest.param(
        "LONG\nPair: BTC-USDT\nEntry: 64000 - 64500\nTP1: 65000",
        expect("BTCUSDT", "buy", "64000-64500", ("65000",)),
        id="crypto-dash-pair-no-stop",
    ),
    pytest.param(
        "Pair: btc / usdt\nEntry: 100\nTP: 110",
        expect("BTCUSDT", "buy", "100", ("110",)),
        id="crypto-lower-case-spaced-pair",
    ),
    pytest.param(
        "**Par:** BTC/USDT\n**Direção:** SHORT\n**Entrada:** 64.250\n**Alvos:** 63.000 / 62.000\n"
        "**Stop:** 65.500",
        expect("BTCUSDT", "sell", "64250", ("63000", "62000"), "65500"),
        id="crypto-portuguese-markdown-direction",
    ),
    pytest.param(
        "Par: BTC/USDT\nTipo: Futuros\nEntrada: 64.250,50\nAlvos: 65.000 - 66.000\nStop: 63.000",
        expect("BTCUSDT", "buy", "64250.50", ("65000", "66000"), "63000", kind="Futures"),
        id="crypto-portuguese-thousands-dots",
    ),
    pytest.param(
        "Type: Scalp\nDirection: Short\nCoin: #ETH\nEntry: 3200\nTargets: 3150 3100\n"
        "Stop-Loss: 3260",
        expect("ETH", "sell", "3200", ("3150", "3100"), "3260", kind="Scalp"),
        id="crypto-type-and-direction-meta",
    ),
    pytest.param(
        "ETH/USDT\nEntry: 3200\nTP: 3100\nSL: 3300",
        expect("ETHUSDT", "sell", "3200", ("3100",), "3300"),
        id="crypto-side-inferred-from-prices",
    ),
    pytest.param(
        "Buy BTC/USDT at 64000\nTP: 66000\nSL: 62000",
        expect("BTCUSDT", "buy", "64000", ("66000",), "62000"),
        id="crypto-buy-pair-at-price",
    ),
    pytest.param(
        "BTC/USDT\nEntry 1: 100\nEntry 2: 95\nTP: 110\nSL: 90",
        expect("BTCUSDT", "buy", "95-100", ("110",), "90"),
        id="crypto-numbered-entries",
    ),
    pytest.param(
        "After TP1 hit, move SL to entry\n#BTCUSDT LONG\nEntry: 64000\nTP1: 65000\nSL: 63000",
        expect("BTCUSDT", "buy", "64000", ("65000",), "63000"),
        id="crypto-conditional-hit-is-instruction",
    ),
    pytest.param(
        "TP Capital\nBTC/USDT\nEntry: 100\nTP: 120\nSL: 90",
        expect("BTCUSDT", "buy", "100", ("120",), "90"),
        id="crypto-channel-name-line",
    ),
    pytest.param(
        "Moeda: 1INCH/USDT\nEntry: 0.35\nTP: 0.40",
        expect("1INCHUSDT", "buy", "0.35", ("0.40",)),
        id="crypto-digit-led-base",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 100\nExit: 120\nStop: 90",
        expect("BTCUSDT", "buy", "100", ("120",), "90"),
        id="exit-label-is-target-not-close",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 10\nSaída: 12\nStop: 9",
        expect("ABCD3", "buy", "10", ("12",), "9"),
        id="saida-label-is-target",
    ),
    pytest.param(
        "$AAPL Buy 180.50 TP 190 SL 175",
        expect("AAPL", "buy", "180.50", ("190",), "175"),
        id="stock-dollar-ticker-one-line",
    ),
    pytest.param(
        "$TSLA\nEntry: 200\nTarget 1: 220\nTarget 2: 240\nStop: 185",
        expect("TSLA", "buy", "200", ("220", "240"), "185"),
        id="stock-target-n",
    ),
    pytest.param(
        "AAPL\nBuy: $180.50\nTP: $190\nSL: $175",
        expect("AAPL", "buy", "180.50", ("190",), "175"),
        id="stock-dollar-prices",
    ),
    pytest.param(
        "Ticker: $TSLA\nEntry: 200\nTP: 220",
        expect("TSLA", "buy", "200", ("220",)),
        id="stock-ticker-label-with-dollar",
    ),
    pytest.param(
        "EURUSD SELL\nEntry: 1.0850\nTP1: 1.0800\nTP2: 1.0750\nSL: 1.0900",
        expect("EURUSD", "sell", "1.0850", ("1.0800", "1.0750"), "1.0900"),
        id="forex-sell",
    ),
    pytest.param(
        "EUR/USD\nSell zone: 1.0850 - 1.0870\nTP1: 1.0800\nTP2: 1.0750\nSL: 1.0920",
        expect("EURUSD", "sell", "1.0850-1.0870", ("1.0800", "1.0750"), "1.0920"),
        id="forex-sell-zone",
    ),
    pytest.param(
        "$TSLA\nTargets 🎯 1.15 - 2.15 - 3.00\nEntry: 1.00",
        expect("TSLA", "buy", "1.00", ("1.15", "2.15", "3.00")),
        id="targets-dash-list-before-entry",
    ),
    pytest.param(
        "Não é recomendação de compra ou venda.\nAtivo: ABCD3\nEntrada: 10\nAlvo: 9\nStop: 11",
        expect("ABCD3", "sell", "10", ("9",), "11"),
        id="disclaimer-naming-both-sides-is-ignored",
    ),
    pytest.param(
        "Entry: 100 SL 90 TP 110 Pair: AVAX/USDT",
        expect("AVAXUSDT", "buy", "100", ("110",), "90"),
        id="inline-labels-any-order",
    ),
]

# ------------------------------------------------------------------ decimal conventions

DECIMAL_CASES = [
    pytest.param(
        "Ativo: IBOV\nCompra: 1.234,56\nAlvo: 1.300,00\nStop: 1.200,00",
        ("1234.56", "1234.56", ("1300.00",), "1200.00"),
        id="dot-thousands-comma-decimal",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 1,234.56\nTP: 1,300.00\nSL: 1,200",
        ("1234.56", "1234.56", ("1300.00",), "1200"),
        id="comma-thousands-dot-decimal",
    ),
    pytest.param(
        "BTC/USDT LONG\nEntry: 64,250\nTP: 65,000\nSL: 63,500",
        ("64250", "64250", ("65000",), "63500"),
        id="ambiguous-comma-english-is-thousands",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 64,250\nAlvo: 70,5\nStop: 60,1",
        ("64.250", "64.250", ("70.5",), "60.1"),
        id="ambiguous-comma-with-comma-decimals-elsewhere",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 64.250\nAlvo: 70.500\nStop: 60.100",
        ("64250", "64250", ("70500",), "60100"),
        id="ambiguous-dot-portuguese-is-thousands",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 64.250\nTP: 70.500\nSL: 60.100",
        ("64.250", "64.250", ("70.500",), "60.100"),
        id="ambiguous-dot-english-is-decimal",
    ),
    pytest.param(
        "LONG $BTC\nEntry: 64.000 - 64.500\nTP: 66000\nSL: 63.500",
        ("64000", "64500", ("66000",), "63500"),
        id="ambiguous-dot-scaled-by-plain-integer",
    ),
    pytest.param(
        "Ativo: XPTO3\nCompra: 1.500\nAlvo: 2\nStop: 1",
        ("1.500", "1.500", ("2",), "1"),
        id="ambiguous-dot-small-integers-keep-decimal",
    ),
    pytest.param(
        "ETH/USDT Long\nEntry: 3,200\nTargets: 3,300 / 3,400 / 3,500\nSL: 3,100",
        ("3200", "3200", ("3300", "3400", "3500"), "3100"),
        id="comma-thousands-slash-list",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04\nAlvo: 1,500\nStop: 0,800",
        ("1.04", "1.04", ("1.500",), "0.800"),
        id="three-decimals-after-zero-and-comma-style",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 1.234.567\nTP: 1,300,000\nSL: 1.200.000",
        ("1234567", "1234567", ("1300000",), "1200000"),
        id="repeated-separators-are-thousands",
    ),
    pytest.param(
        "#PEPEUSDT\nBuy: 0.00001234\nTP: 0.00001500\nSL: 0.00001100",
        ("0.00001234", "0.00001234", ("0.00001500",), "0.00001100"),
        id="many-decimals",
    ),
    pytest.param(
        "📈 LONG BTC/USDT\nEntry: 64,250.50\nTargets: 65,000 - 66,000 - 67,500\n"
        "Stop loss: 63,100.25",
        ("64250.50", "64250.50", ("65000", "66000", "67500"), "63100.25"),
        id="mixed-marks-set-style-for-ambiguous",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 1.00\nTargets: 1.15,2.15,3.00",
        ("1.00", "1.00", ("1.15", "2.15", "3.00"), None),
        id="comma-separated-list-without-spaces",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 1,5\nAlvo: 2\nStop: 1",
        ("1.5", "1.5", ("2",), "1"),
        id="one-decimal-comma",
    ),
    pytest.param(
        "BTC/USDT\nEntry: 64000\nTP: 66000\nSL: 62000",
        ("64000", "64000", ("66000",), "62000"),
        id="plain-integers",
    ),
]

# ------------------------------------------------------------------ follow-ups and chatter

NOT_SIGNAL_CASES = [
    pytest.param("Alvo 1 atingido ✅", "follow-up notice: target hit", id="alvo-atingido"),
    pytest.param("Alvo 2 atingido! 🎯 +25%", "follow-up notice: target hit", id="alvo-2-atingido"),
    pytest.param("Target 2 hit 🎯", "follow-up notice: target hit", id="target-hit"),
    pytest.param("TP1 reached", "follow-up notice: target hit", id="tp-reached"),
    pytest.param("Todos os alvos atingidos 🚀", "follow-up notice: target hit", id="all-targets"),
    pytest.param("Stop atingido", "follow-up notice: stop hit", id="stop-atingido"),
    pytest.param("Stopped out", "follow-up notice: stop hit", id="stopped-out"),
    pytest.param("SL hit", "follow-up notice: stop hit", id="sl-hit"),
    pytest.param("Stop loss triggered on ETH", "follow-up notice: stop hit", id="sl-triggered"),
    pytest.param("Stopado no BOVAW32", "follow-up notice: stop hit", id="stopado"),
    pytest.param("Entrada atingida em PETR4", "follow-up notice: entry reached", id="entry-hit"),
    pytest.param("Close BTC/USDT now", "follow-up notice: close position", id="close-now"),
    pytest.param("Encerrar posição", "follow-up notice: close position", id="encerrar"),
    pytest.param("Fechar", "follow-up notice: close position", id="fechar"),
    pytest.param("Fechar 50% da posição agora", "follow-up notice: partial profit", id="fechar-50"),
    pytest.param("Posição encerrada com lucro", "follow-up notice: close position", id="encerrada"),
    pytest.param("Closed at +15% profit", "follow-up notice: close position", id="closed"),
    pytest.param("Exit now", "follow-up notice: close position", id="exit-now"),
    pytest.param("Sinal cancelado", "follow-up notice: signal cancelled", id="cancelado"),
    pytest.param(
        "Signal cancelled, entry not reached", "follow-up notice: signal cancelled", id="cancelled"
    ),
    pytest.param("Move stop to entry", "follow-up notice: stop moved", id="move-stop"),
    pytest.param(
        "Mover stop para o preço de entrada", "follow-up notice: stop moved", id="mover-stop"
    ),
    pytest.param("stop no 0 a 0", "follow-up notice: stop moved", id="stop-0-a-0"),
    pytest.param("Breakeven now", "follow-up notice: stop moved", id="breakeven"),
    pytest.param("SL to BE", "follow-up notice: stop moved", id="sl-to-be"),
    pytest.param("Novo stop: 1,10", "follow-up notice: stop moved", id="novo-stop-with-price"),
    pytest.param("Realizar parcial no alvo 1", "follow-up notice: partial profit", id="parcial"),
    pytest.param(
        "ATUALIZAÇÃO\n" + TPC, "follow-up notice: update of an earlier signal", id="atualizacao"
    ),
    pytest.param(
        "Update: new targets for BTC/USDT\nTP1: 70000\nTP2: 72000",
        "follow-up notice: update of an earlier signal",
        id="update-new-targets",
    ),
    pytest.param(
        TPC + "\n\nAlvo 1 atingido ✅", "follow-up notice: target hit", id="quoted-signal-with-hit"
    ),
    pytest.param("TP 2 ✅", "follow-up notice: target hit", id="target-index-only"),
    pytest.param("Bom dia pessoal", "chatter: no entry, target or stop", id="bom-dia"),
    pytest.param(
        "Mercado hoje: Ibovespa sobe 1,2% puxado por bancos, dólar a 5,20",
        "chatter: no entry, target or stop",
        id="mercado-hoje",
    ),
    pytest.param(
        "Lembrem de sempre usar stop!", "chatter: no entry, target or stop", id="use-stop-advice"
    ),
    pytest.param(
        "Weekly recap: 14 wins, 3 losses. Thanks everyone 🙏",
        "chatter: no entry, target or stop",
        id="recap",
    ),
    pytest.param("1,15 2,15 3,00", "chatter: no entry, target or stop", id="bare-price-list"),
    pytest.param("65000\n66000\n67000", "chatter: no entry, target or stop", id="bare-lines"),
    pytest.param("BTC/USDT", "chatter: no entry, target or stop", id="bare-pair"),
    pytest.param("🚀🚀🚀", "chatter: no entry, target or stop", id="emoji-only"),
    pytest.param("https://t.me/tpcapital", "chatter: no entry, target or stop", id="link"),
    pytest.param("", "empty message", id="empty"),
    pytest.param("   \n\t \n", "empty message", id="whitespace"),
]

# ------------------------------------------------------------------ validation failures

INVALID_CASES = [
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nStop: 1,10",
        "stop 1.10 is not below the buy range 1.04-1.06",
        id="buy-stop-above-entry",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nStop: 1,04",
        "stop 1.04 is not below the buy range 1.04-1.06",
        id="buy-stop-equal-entry",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,00\nStop: 0,80",
        "target 1.00 is not above the buy range 1.04-1.06",
        id="buy-target-below-entry",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,05\nStop: 0,80",
        "target 1.05 is not above the buy range 1.04-1.06",
        id="buy-target-inside-range",
    ),
    pytest.param(
        "#BTCUSDT LONG\nEntry: 64000\nTP: 66000\nSL: 64500",
        "stop 64500 is not below the buy price 64000",
        id="buy-single-price-stop-above",
    ),
    pytest.param(
        "#BTCUSDT LONG\nEntry: 64000\nTP: 62000\nSL: 66000",
        "stop 66000 is not below the buy price 64000",
        id="explicit-long-with-short-prices",
    ),
    pytest.param(
        "Ativo: BOVAW32\nVenda: 1,04 a 1,06\nAlvo 1: 0,90\nStop: 1,05",
        "stop 1.05 is not above the sell range 1.04-1.06",
        id="sell-stop-inside-range",
    ),
    pytest.param(
        "SELL BTC/USDT\nEntry: 64000\nTP: 65000\nSL: 66000",
        "target 65000 is not below the sell price 64000",
        id="sell-target-above-entry",
    ),
    pytest.param(
        "Ativo: BOVAW32\nCompra: 0\nAlvo: 1\nStop: 0,5",
        "entry 0 is not positive",
        id="zero-entry",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 10\nAlvo: 12\nStop: 0",
        "stop 0 is not positive",
        id="zero-stop",
    ),
    pytest.param(
        "Ativo: ABCD3\nCompra: 10\nAlvo: 0,00\nStop: 9",
        "target 0.00 is not positive",
        id="zero-target",
    ),
    pytest.param(
        "Compra: 1,04 a 1,06\nAlvo: 1,15\nStop: 0,80",
        "no asset",
        id="no-asset",
    ),
    pytest.param("BUY\nEntry: 10\nTP: 12", "no asset", id="no-asset-english"),
    pytest.param(
        "Ativo: BOVAW32\nAlvo 1: 1,15\nStop: 0,80",
        "no entry price",
        id="no-entry",
    ),
    pytest.param(
        "Ativo: BOVAW32\nAlvo: 1,20\nStop: 0,80",
        "no entry price",
        id="entry-without-price",
    ),
    pytest.param(
        "BOVAW32 compra 1,04",
        "no target or stop",
        id="no-target-no-stop",
    ),
]

# ------------------------------------------------------------------ signal type and asset

TYPE_CASES = [
    pytest.param("🟢Swing Trade", "Swing Trade", id="swing-trade"),
    pytest.param("SWING", "Swing Trade", id="swing-upper"),
    pytest.param("#SwingTrade", "Swing Trade", id="swing-hashtag"),
    pytest.param("Day Trade", "Day Trade", id="day-trade"),
    pytest.param("daytrade", "Day Trade", id="daytrade"),
    pytest.param("Intraday", "Day Trade", id="intraday"),
    pytest.param("Position", "Position", id="position"),
    pytest.param("POSIÇÃO", "Position", id="posicao-upper"),
    pytest.param("posicao", "Position", id="posicao-no-accents"),
    pytest.param("⚡ Scalp", "Scalp", id="scalp"),
    pytest.param("Scalping", "Scalp", id="scalping"),
    pytest.param("Spot", "Spot", id="spot"),
    pytest.param("Futures", "Futures", id="futures"),
    pytest.param("Futuros", "Futures", id="futuros"),
    pytest.param("Perpetual", "Futures", id="perpetual"),
    pytest.param("Tipo: Day Trade", "Day Trade", id="tipo-label"),
    pytest.param("Sinal novo", "Unspecified", id="none"),
]

ASSET_CASES = [
    pytest.param("Ativo: BOVAW32", "BOVAW32", id="label"),
    pytest.param("ativo: bovaw32", "BOVAW32", id="label-lower"),
    pytest.param("#BTCUSDT", "BTCUSDT", id="hashtag-no-slash"),
    pytest.param("BTCUSDT", "BTCUSDT", id="bare-pair-no-slash"),
    pytest.param("BTC/USDT", "BTCUSDT", id="slash-pair"),
    pytest.param("#BTC/USDT", "BTCUSDT", id="hashtag-slash-pair"),
    pytest.param("BTC-USDT", "BTCUSDT", id="dash-pair"),
    pytest.param("BTC_USDT", "BTCUSDT", id="underscore-pair"),
    pytest.param("Par: btc / usdt", "BTCUSDT", id="spaced-lower-pair"),
    pytest.param("$AAPL", "AAPL", id="dollar-ticker"),
    pytest.param("PETR4", "PETR4", id="b3-ticker"),
    pytest.param("EURUSD", "EURUSD", id="forex"),
    pytest.param("🔥 VIP SIGNAL 🔥\n#VIP #signal\nAtivo: ITUB4", "ITUB4", id="keywords-skipped"),
    pytest.param("#BTCUSDT\nPar: ETH/USDT", "ETHUSDT", id="label-beats-hashtag"),
    pytest.param("LONG $BTC", "BTC", id="side-word-is-not-asset"),
]


# ------------------------------------------------------------------ issue 9 format families

ISSUE_FORMAT_CASES = [
    pytest.param(
        "XAUUSD BUY NOW\nTP 2350\nTP 2355\nSL 2330",
        expect("XAUUSD", "buy", "", ("2350", "2355"), "2330"),
        id="market-order-no-entry-price",
    ),
    pytest.param(
        "Buy TATASTEEL CMP 152.40\nTarget 158 / 163 / 170\nSL 147",
        expect("TATASTEEL", "buy", "152.40", ("158", "163", "170"), "147"),
        id="cmp-with-price",
    ),
    pytest.param(
        "🔥 GOLD buy limit @ 2331.50/32.50\nT.P 1 ➜ 2336\nT.P 2 ➜ 2341\nS.L ➜ 2325 (65 pips)",
        expect("XAUUSD", "buy", "2331.50-2332.50", ("2336", "2341"), "2325"),
        id="nickname-pending-shorthand-dotted-labels-pips",
    ),
    pytest.param(
        "eur gbp sell 0.8560 - 0.8565\nTP¹ 0.8540 TP² 0.8520\nSL 0.8590 | RR 1:2 | lot 0.05",
        expect("EURGBP", "sell", "0.8560-0.8565", ("0.8540", "0.8520"), "0.8590"),
        id="spaced-pair-superscripts-annotations",
    ),
    pytest.param(
        "Gbp/Cad BUY 1.7420\nTP ➊ 1.7460\nTP ➋ 1.7500\nSL 1.7380",
        expect("GBPCAD", "buy", "1.7420", ("1.7460", "1.7500"), "1.7380"),
        id="slashed-pair-dingbat-indexes",
    ),
    pytest.param(
        "Euro / US Dollar SELL 1.0910\nTarget1# 1.0880\nTarget2# 1.0850\nStop/Loss 1.0945",
        expect("EURUSD", "sell", "1.0910", ("1.0880", "1.0850"), "1.0945"),
        id="currency-names-hash-glued-labels",
    ),
    pytest.param(
        "US30 SELL 39480\n🎯 39410\n🎯 39340\n🛑 39570",
        expect("US30", "sell", "39480", ("39410", "39340"), "39570"),
        id="index-emoji-labels",
    ),
    pytest.param(
        "$XYZ buy 120-130 sats\nTargets 150 / 180\nStop loss 100",
        expect(
            "XYZBTC", "buy", "0.00000120-0.00000130", ("0.00000150", "0.00000180"), "0.00000100"
        ),
        id="satoshis-are-the-btc-pair",
    ),
    pytest.param(
        "𝐁𝐔𝐘 𝐆𝐁𝐏𝐔𝐒𝐃 𝟏.𝟐𝟕𝟏𝟎\n𝐓𝐏𝟏 𝟏.𝟐𝟕𝟒𝟎\n𝐒𝐋 𝟏.𝟐𝟔𝟖𝟎",
        expect("GBPUSD", "buy", "1.2710", ("1.2740",), "1.2680"),
        id="mathematical-bold",
    ),
    pytest.param(
        "ＥＵＲＵＳＤ ＳＥＬＬ １．０９００\nＴＰ １．０８７０\nＳＬ １．０９３０",
        expect("EURUSD", "sell", "1.0900", ("1.0870",), "1.0930"),
        id="fullwidth",
    ),
    pytest.param(
        "طلا خرید\nورود: ۲۳۴۰٫۵\nتارگت ۱: ۲۳۵۰\nحد ضرر: ۲۳۳۰",
        expect("XAUUSD", "buy", "2340.5", ("2350",), "2330"),
        id="persian-digits-and-words",
    ),
    pytest.param(
        "📉 Продажа ЗОЛОТО\nТочка входа: 2388\nТейк-профит 1: 2382\nСтоп-лосс: 2396",
        expect("XAUUSD", "sell", "2388", ("2382",), "2396"),
        id="russian",
    ),
    pytest.param(
        "#BTCUSDT LONG\nGiriş: 64.250\nHedef 1: 65.000\nZarar durdur: 63.000",
        expect("BTCUSDT", "buy", "64250", ("65000",), "63000"),
        id="turkish-dot-thousands",
    ),
    pytest.param(
        "Oro venta 2390 - 2395\nObjetivo 1: 2380\nStop loss: 2402",
        expect("XAUUSD", "sell", "2390-2395", ("2380",), "2402"),
        id="spanish",
    ),
    pytest.param(
        "BTCUSDT long 64k-65k, tp 68k/70k, sl 62k",
        expect("BTCUSDT", "buy", "64000-65000", ("68000", "70000"), "62000"),
        id="thousands-suffix",
    ),
    pytest.param(
        "NAS100 buy 18150\nTP1/TP2/TP3: 18220/18300/18420\nSL: 18060",
        expect("NAS100", "buy", "18150", ("18220", "18300", "18420"), "18060"),
        id="numbered-target-list",
    ),
    pytest.param(
        "GOLD SELL 2396\nTP1 2391\nTP2 2386\nTP3 open\nSL 2404",
        expect("XAUUSD", "sell", "2396", ("2391", "2386"), "2404"),
        id="tp-open-is-no-price",
    ),
]

ISSUE_NOT_SIGNAL_CASES = [
    pytest.param("Gold hit TP1 ✅ +50 pips", id="hit-result"),
    pytest.param("GOLD BUY 2341\nTP1 2345 ✅ +40 pips\nTP2 2350 ✅", id="quoted-with-hits"),
    pytest.param("Move SL to entry on GBPJPY", id="stop-move"),
    pytest.param("Цель 2 взята по EURUSD ✅ +45 пунктов", id="russian-hit"),
    pytest.param("EURUSD hedef 1 ulaştı ✅", id="turkish-hit"),
    pytest.param("Sinal encerrado: BOVAW32 compra 1,04 → venda 1,15 (+10,6%)", id="summary"),
    pytest.param(
        "2024-06-03 EURUSD BUY 1.0840 closed 1.0890 +50\n2024-06-04 GOLD SELL 2372 closed 2361",
        id="trade-history",
    ),
    pytest.param("Gold is testing 2350 resistance; a breakout could reach 2370.", id="analysis"),
    pytest.param("US30 sell: +180 points and counting, TP3 at 39150", id="running-result"),
]


@pytest.mark.parametrize(("text", "want"), ISSUE_FORMAT_CASES)
def test_issue_format_families(text: str, want: dict[str, Any]) -> None:
    assert_signal(text, want)


@pytest.mark.parametrize("text", ISSUE_NOT_SIGNAL_CASES)
def test_issue_non_signals_stay_non_signals(text: str) -> None:
    got = parse_signal(text)
    assert isinstance(got, NotASignal), got
    assert got.status == "not_signal"


@pytest.mark.parametrize(("text", "want"), TP_CAPITAL_CASES + OTHER_FORMAT_CASES)
def test_signal_formats(text: str, want: dict[str, Any]) -> None:
    assert_signal(text, want)


@pytest.mark.parametrize(("text", "want"), DECIMAL_CASES)
def test_decimal_conventions(text: str, want: tuple[str, str, tuple[str, ...], str | None]) -> None:
    got = parse_signal(text)
    assert isinstance(got, Signal), got
    low, high, targets, stop = want
    assert (str(got.buy_min), str(got.buy_max)) == (low, high)
    assert tuple(str(t) for t in got.targets) == targets
    assert (None if got.stop is None else str(got.stop)) == stop
    assert got.as_dict()["buy_min"] == float(low)


@pytest.mark.parametrize(("text", "reason"), NOT_SIGNAL_CASES)
def test_not_signals(text: str, reason: str) -> None:
    assert parse_signal(text) == NotASignal("not_signal", reason)


@pytest.mark.parametrize(("text", "reason"), INVALID_CASES)
def test_invalid_signals(text: str, reason: str) -> None:
    assert parse_signal(text) == NotASignal("invalid", reason)


@pytest.mark.parametrize(("header", "signal_type"), TYPE_CASES)
def test_signal_type(header: str, signal_type: str) -> None:
    got = parse_signal(f"{header}\nAtivo: ABCD3\nCompra: 10\nAlvo: 12\nStop: 9")
    assert isinstance(got, Signal), got
    assert got.signal_type == signal_type
    assert got.signal_type in SIGNAL_TYPES


@pytest.mark.parametrize(("header", "asset"), ASSET_CASES)
def test_asset_normalisation(header: str, asset: str) -> None:
    got = parse_signal(f"{header}\nEntrada: 10\nAlvo: 12\nStop: 9")
    assert isinstance(got, Signal), got
    assert got.asset == asset


# ------------------------------------------------------------------ target semantics

ENTRY = "Ativo: ABCD3\nCompra: 10\nStop: 9\n"


@pytest.mark.parametrize(
    ("targets", "t1", "t2", "final"),
    [
        pytest.param("", None, None, None, id="none"),
        pytest.param("Alvo 1: 11", "11", None, "11", id="alvo-1-only-is-also-final"),
        pytest.param("Alvo 2: 12", None, "12", "12", id="alvo-2-only"),
        pytest.param("Alvo 1: 11\nAlvo 2: 12", "11", "12", "12", id="alvo-1-2-no-final"),
        pytest.param("Alvo final: 13", None, None, "13", id="final-only"),
        pytest.param("Alvo 1: 11\nAlvo final: 13", "11", None, "13", id="alvo-1-and-final"),
        pytest.param("Alvo 1: 11\nAlvo 2: 12\nAlvo final: 13", "11", "12", "13", id="tpc"),
        pytest.param("Alvo final: 13\nAlvo 1: 11\nAlvo 2: 12", "11", "12", "13", id="final-first"),
        pytest.param("Alvo 2: 12\nAlvo 1: 11", "11", "12", "11", id="numbers-not-order"),
        pytest.param("Alvo: 11", "11", None, "11", id="one-unnumbered"),
        pytest.param("Alvos: 11 / 12 / 13", "11", "12", "13", id="unnumbered-list"),
        pytest.param("Alvos: 11 / 12\nAlvo final: 13", "11", "12", "13", id="list-and-final"),
        pytest.param("TP1 11\nTP2 12\nTP3 13\nTP4 14", "11", "12", "14", id="tp1-to-tp4"),
        pytest.param("TP² 12\nTP¹ 11", "11", "12", "11", id="superscript-indexes"),
    ],
)
def test_target_fields_follow_the_labels(
    targets: str, t1: str | None, t2: str | None, final: str | None
) -> None:
    got = parse_signal(ENTRY + targets)
    assert isinstance(got, Signal), got
    assert _text(got.target_1) == t1
    assert _text(got.target_2) == t2
    assert _text(got.target_final) == final


def test_signal_is_frozen_with_slots_and_json_ready() -> None:
    sig = parse_signal(TPC)
    assert isinstance(sig, Signal)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sig.asset = "OTHER"  # type: ignore[misc]
    assert not hasattr(sig, "__dict__")
    data = sig.as_dict()
    assert set(data) == {
        "asset",
        "signal_type",
        "side",
        "buy_min",
        "buy_max",
        "targets",
        "target_1",
        "target_2",
        "target_final",
        "stop",
    }
    assert json.loads(json.dumps(data)) == data
    assert all(isinstance(v, float) for v in data["targets"])
    assert isinstance(data["buy_min"], float)


def test_constants() -> None:
    assert isinstance(PARSER_VERSION, int)
    assert PARSER_VERSION >= 1
    assert SIGNAL_TYPES[-1] == "Unspecified"
    assert len(set(SIGNAL_TYPES)) == len(SIGNAL_TYPES) == 7


def test_parse_is_deterministic() -> None:
    assert parse_signal(TPC) == parse_signal(TPC)


# ------------------------------------------------------------------ robustness


def _random_text(rng: random.Random) -> str:
    pools = [
        lambda: chr(rng.randint(32, 126)),
        lambda: chr(rng.randint(0, 0x10FFFF)),
        lambda: chr(rng.randint(0x1F300, 0x1FAFF)),
        lambda: rng.choice(["\n", " ", ",", ".", ":", "-", "/", "%", "(", ")", "#", "$", "_"]),
        lambda: rng.choice(["Alvo 1", "TP", "SL", "Stop", "Compra", "Entry", "BTC/USDT", "0,5"]),
        lambda: rng.choice(
            [
                "TP¹",
                "T.P",
                "➊",
                "1️⃣",
                "🎯",
                "🛑",
                "✅",
                "۱۲۳٫۵",
                "٢٣٤٠",
                "𝐁𝐔𝐘",
                "ＴＰ",
                "sats",
                "64k",
            ]
        ),
        lambda: rng.choice(["Тейк", "حد ضرر", "Hedef", "ALIŞ", "gold", "eur gbp", "x20", "1:3"]),
        lambda: str(rng.randint(0, 10**6)),
    ]
    return "".join(rng.choice(pools)() for _ in range(rng.randint(0, 200)))


def test_random_unicode_never_raises() -> None:
    rng = random.Random(20240501)
    for _ in range(1500):
        text = _random_text(rng)
        got = parse_signal(text)
        assert isinstance(got, Signal | NotASignal)
        if isinstance(got, NotASignal):
            assert got.status in ("not_signal", "invalid")
            assert not got.reason.startswith("parser error"), (text, got)
        else:
            assert got.side in ("buy", "sell")
            assert got.signal_type in SIGNAL_TYPES
            json.dumps(got.as_dict())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\ud800\udfff broken surrogates", id="lone-surrogates"),
        pytest.param("\x00\x01\x02 Alvo 1: \x00", id="control-characters"),
        pytest.param("İstanbul ALVO: 1,15 ẞ", id="length-changing-lower-case"),
        pytest.param("Ａｔｉｖｏ：ＢＴＣ", id="full-width"),
        pytest.param("1" * 5000, id="long-number"),
        pytest.param("1," * 4000, id="comma-run"),
        pytest.param("move " * 1900, id="move-words"),
        pytest.param("Targets:\n" + "1) 100\n" * 1300, id="many-target-lines"),
        pytest.param("(" * 4000 + "1%" + ")" * 4000, id="nested-parens"),
        pytest.param("ABC " * 2400, id="upper-words"),
        pytest.param(TPC * 40, id="repeated-signal"),
    ],
)
def test_hostile_input_is_fast_and_total(text: str) -> None:
    start = time.perf_counter()
    got = parse_signal(text)
    elapsed = time.perf_counter() - start
    assert isinstance(got, Signal | NotASignal)
    assert not (isinstance(got, NotASignal) and got.reason.startswith("parser error"))
    assert elapsed < 0.25, f"{elapsed:.3f}s"


def test_100_kb_text_returns_quickly() -> None:
    text = (TPC + "\n") * (100_000 // len(TPC) + 1)
    assert len(text) > 100_000
    start = time.perf_counter()
    got = parse_signal(text)
    assert time.perf_counter() - start < 0.05
    assert got == NotASignal("not_signal", f"message too long ({len(text)} characters)")


def test_longest_accepted_message_still_parses() -> None:
    text = TPC + "\n" + " " * (MAX_MESSAGE_CHARS - len(TPC) - 1)
    assert len(text) == MAX_MESSAGE_CHARS
    assert_signal(text, TPC_WANT)


@pytest.mark.parametrize("value", [None, b"Alvo 1: 1,15", 42])
def test_non_string_input_is_not_a_signal(value: object) -> None:
    assert parse_signal(value) == NotASignal("not_signal", "empty message")  # type: ignore[arg-type]


def test_internal_error_becomes_not_a_signal() -> None:
    # A compiled parser's modules call each other directly, past any monkeypatch, so the
    # bug is planted in the same sources run interpreted (tests/parsing/test_compiled.py
    # checks that both forms agree).
    probe = (
        "from app.parsing import signals\n"
        "def boom(*args):\n"
        "    raise RuntimeError('bug')\n"
        "signals.assign = boom\n"
        "print(signals.parse_signal('Ativo: X\\nCompra: 1\\nAlvo: 2'))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "TPCAP_PARSER_INTERPRETED": "1"},
    )
    assert child.stdout.strip() == repr(NotASignal("not_signal", "parser error: RuntimeError"))
