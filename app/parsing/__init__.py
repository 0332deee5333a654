"""Signal parsing: pure text-to-signal functions, no I/O."""

from app.parsing import compiled

compiled.guard()  # before the first parser module is imported

from app.parsing.signals import (  # noqa: E402
    PARSER_VERSION,
    SIGNAL_TYPES,
    NotASignal,
    Signal,
    parse_signal,
)

__all__ = ["PARSER_VERSION", "SIGNAL_TYPES", "NotASignal", "Signal", "parse_signal"]
