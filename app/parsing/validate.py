"""Validation of a signal's prices against its side (status "invalid", the reason names them).

Every price positive; buy: stop below the entry's low end and every target above its high
end; sell: stop above the high end and every target below the low end. A market order (no
entry price) checks the stop against the targets instead. The stop lies within a factor of 3
of the entry and the targets within a factor of 10: "Gold ... buy from 2318 ... one stop at
1.0810" mixes two instruments' levels.
"""

from __future__ import annotations

from decimal import Decimal

BUY = "buy"
SELL = "sell"
_ZERO = Decimal(0)
_STOP_FACTOR = Decimal(3)
_TARGET_FACTOR = Decimal(10)


def _describe_range(side: str, low: Decimal, high: Decimal) -> str:
    return f"{side} price {low}" if low == high else f"{side} range {low}-{high}"


def problem(
    side: str,
    low: Decimal | None,
    high: Decimal | None,
    targets: list[Decimal],
    stop: Decimal | None,
) -> str | None:
    """What is wrong with these prices for this side, or None."""
    if low is not None and low <= _ZERO:
        return f"entry {low} is not positive"
    if stop is not None and stop <= _ZERO:
        return f"stop {stop} is not positive"
    for target in targets:
        if target <= _ZERO:
            return f"target {target} is not positive"
    if low is None or high is None:
        if stop is None or not targets:
            return None
        if side == BUY and any(t <= stop for t in targets):
            return f"stop {stop} is not below the targets of a buy at market"
        if side == SELL and any(t >= stop for t in targets):
            return f"stop {stop} is not above the targets of a sell at market"
        return None
    if stop is not None and not low / _STOP_FACTOR <= stop <= high * _STOP_FACTOR:
        return f"stop {stop} is far from the {_describe_range(side, low, high)}"
    for target in targets:
        if not low / _TARGET_FACTOR <= target <= high * _TARGET_FACTOR:
            return f"target {target} is far from the {_describe_range(side, low, high)}"
    found: str | None = None
    if side == BUY:
        if stop is not None and stop >= low:
            found = f"stop {stop} is not below"
        else:
            found = next((f"target {t} is not above" for t in targets if t <= high), None)
    elif stop is not None and stop <= high:
        found = f"stop {stop} is not above"
    else:
        found = next((f"target {t} is not below" for t in targets if t >= low), None)
    return None if found is None else f"{found} the {_describe_range(side, low, high)}"


def infer_side(
    low: Decimal | None, high: Decimal | None, targets: list[Decimal], stop: Decimal | None
) -> str:
    """With no side word: sell when only the sell reading of the prices is valid, else buy."""
    if problem(BUY, low, high, targets, stop) is None:
        return BUY
    return SELL if problem(SELL, low, high, targets, stop) is None else BUY
