"""OpenTelemetry trace correlation (TRACE_CONTEXT.md §1).

``trace_block`` is the whole rule set: a pure function of a SpanContext. Everything else here only finds the
active span through the OpenTelemetry *API* and makes sure OTel can never break a run.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, Protocol

from ._settings import env_flag

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger("robotrace")

ENV_RESPECT_SAMPLED = "ROBOTRACE_OTEL_RESPECT_SAMPLED"
ENV_LINK_SPAN = "ROBOTRACE_OTEL_LINK_SPAN"

_SAMPLED = 0x01
_TRACE_ID_LIMIT = 1 << 128
_SPAN_ID_LIMIT = 1 << 64
_FLAGS_HEX = tuple(f"{i:02x}" for i in range(256))


class _TraceStateLike(Protocol):
    def to_header(self) -> str: ...


class SpanContextLike(Protocol):
    """What ``trace_block`` reads; ``opentelemetry.trace.SpanContext`` satisfies it."""

    @property
    def trace_id(self) -> int: ...
    @property
    def span_id(self) -> int: ...
    @property
    def trace_flags(self) -> int: ...
    @property
    def trace_state(self) -> _TraceStateLike | str | None: ...


OtelBlock = dict[str, str]


def trace_block(ctx: SpanContextLike, respect_sampled: bool = False) -> OtelBlock | None:
    """The otel block to send for a span context, or None for "no block".

    Zero ids (INVALID_SPAN) are never attached. The flags byte is sent as it is (an unsampled span gives
    ``-00``, unknown bits survive); ``respect_sampled`` drops unsampled spans instead.
    """
    if type(ctx) is _span_context_class or _is_otel_span_context(ctx):
        # OTel's SpanContext is declared as Tuple[trace_id, span_id, is_remote, trace_flags, trace_state,
        # is_valid]: unpacking it once costs a fifth of four property calls, the largest share of capture.
        fields: _OtelTuple = ctx  # type: ignore[assignment]  # (cast() would be a call on the hot path)
        trace_id, span_id, _remote, flags, state, _valid = fields
    else:
        trace_id, span_id, flags, state = ctx.trace_id, ctx.span_id, ctx.trace_flags, ctx.trace_state
    if not 0 < trace_id < _TRACE_ID_LIMIT or not 0 < span_id < _SPAN_ID_LIMIT:
        return None
    flags &= 0xFF
    if respect_sampled and not flags & _SAMPLED:
        return None
    # to_bytes().hex() and concatenation: the fastest fixed-width lowercase hex in CPython.
    trace_hex = trace_id.to_bytes(16, "big").hex()
    span_hex = span_id.to_bytes(8, "big").hex()
    block = {
        "trace_id": trace_hex,
        "span_id": span_hex,
        "traceparent": "00-" + trace_hex + "-" + span_hex + "-" + _FLAGS_HEX[flags],
    }
    if state:  # an empty TraceState is falsy, so the common case skips serializing
        header = state if isinstance(state, str) else state.to_header()
        if header:
            block["tracestate"] = header
    return block


_OtelTuple = tuple[int, int, bool, int, Any, bool]
_span_context_class: type | None = None


def _is_otel_span_context(ctx: object) -> bool:
    """Whether ``ctx`` is OTel's own SpanContext; remembers the class once OTel has been imported."""
    global _span_context_class
    if _span_context_class is None:
        trace_api = sys.modules.get("opentelemetry.trace")
        cls = getattr(trace_api, "SpanContext", None) if trace_api is not None else None
        if isinstance(cls, type) and issubclass(cls, tuple):
            _span_context_class = cls
    return _span_context_class is not None and type(ctx) is _span_context_class


def capture_active(respect_sampled: bool) -> tuple[OtelBlock | None, Any]:
    """(block, span) for the active span; (None, None) when there is none or OTel misbehaves."""
    # A span can only be active if the application imported the OTel trace API to start it, so when it is
    # not imported there is nothing to capture: answer without importing OTel ourselves (no import cost, and
    # no behaviour at all when the [otel] extra is absent).
    trace_api = sys.modules.get("opentelemetry.trace")
    if trace_api is None:
        return None, None
    try:
        span = trace_api.get_current_span()
        block = trace_block(span.get_span_context(), respect_sampled)
    except Exception:  # OTel must never break the user's run
        logger.debug("robotrace: could not read the active OpenTelemetry span", exc_info=True)
        return None, None
    return block, (span if block is not None else None)


def capture_trace_context(*, respect_sampled: bool | None = None) -> OtelBlock | None:
    """The otel block of the active span, as ``log_episode`` would attach it; None when there is none.

    ``respect_sampled`` defaults to the ``ROBOTRACE_OTEL_RESPECT_SAMPLED`` environment variable.
    """
    if respect_sampled is None:
        respect_sampled = env_flag(ENV_RESPECT_SAMPLED)
    return capture_active(respect_sampled)[0]


def explicit_block(metadata: Mapping[str, Any] | None) -> tuple[bool, Any]:
    """(True, value) when the caller wrote ``metadata["otel"]`` themselves (None = opt out)."""
    if metadata is not None and "otel" in metadata:
        return True, metadata["otel"]
    return False, None


def link_span(span: Any, episode_id: str, episode_url: str) -> None:
    """Opt-in back-link: tag the span the episode was captured from, if it is still recording."""
    try:
        if span is not None and span.is_recording():
            span.set_attribute("robotrace.episode_id", episode_id)
            span.set_attribute("robotrace.episode_url", episode_url)
    except Exception:
        logger.debug("robotrace: could not set back-link attributes on the span", exc_info=True)
