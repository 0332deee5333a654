"""Signal parsing: pure text-to-signal functions, no I/O."""

from app.parsing.signals import (
    PARSER_VERSION,
    SIGNAL_TYPES,
    NotASignal,
    Signal,
    parse_signal,
)

__all__ = ["PARSER_VERSION", "SIGNAL_TYPES", "NotASignal", "Signal", "parse_signal"]
