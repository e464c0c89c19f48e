"""The HTTP/1.1 connection under the edge: uvicorn's httptools protocol, with its writes coalesced.

uvicorn writes each part of a response (the head on `http.response.start`, then the body) with
its own system call, as soon as it is sent. With many requests in hand, every write wakes the
client again: a client holding many connections, woken for each of them, costs the server more
than the answers themselves. So:
- with no other request in hand, a write goes straight out (a lone client waits for nothing);
- otherwise a connection's writes gather in a buffer. A complete answer goes out at once, in one
  call, if it is the first of the event loop's current round (a request that another process
  waits on, such as a function's, is not held back); the round's later answers are written at
  its end, together, so that a client holding many connections is woken once for them;
- anything of 64 KiB or more goes out at once, after what is buffered (a large body goes straight
  through, under the transport's own flow control), and the buffer is written before a close.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from overcast.core.load import REQUESTS, Load

log = logging.getLogger("overcast.edge")

# A write this large (or a buffer grown this large) goes out at once: buffering it would only
# hold memory, and uvicorn's flow control watches the real transport.
_WRITE_THROUGH = 64 * 1024


class _Round:
    """The connections with buffered bytes in this round of the event loop, written together
    at its end; whether an answer already went out at once in this round; and the count of
    requests in hand that decides whether to wait at all."""

    __slots__ = ("answered", "load", "loop", "scheduled", "waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop, load: Load = REQUESTS) -> None:
        self.loop = loop
        self.load = load
        self.waiting: list[CoalescingTransport] = []
        self.scheduled = False
        self.answered = False

    def _schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def wait(self, transport: CoalescingTransport) -> None:
        self.waiting.append(transport)
        self._schedule()

    def first_answer(self) -> bool:
        """Whether this is the round's first complete answer (noting that it is going out)."""
        if self.answered:
            return False
        self.answered = True
        self._schedule()
        return True

    def flush(self) -> None:
        self.scheduled = False
        self.answered = False
        waiting, self.waiting = self.waiting, []
        for transport in waiting:
            try:
                transport.flush()
            except Exception:  # one broken connection must not keep the others' answers
                log.exception("could not write to a connection")


_rounds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Round] = weakref.WeakKeyDictionary()


def _round_of(loop: asyncio.AbstractEventLoop) -> _Round:
    found = _rounds.get(loop)
    if found is None:
        found = _rounds[loop] = _Round(loop)
    return found


class CoalescingTransport:
    """A connection's transport whose writes are buffered until the response is complete or the
    round ends. Everything but write and close is the real transport's."""

    __slots__ = ("_buffer", "_round", "_size", "_transport", "_waiting")

    def __init__(self, transport: asyncio.Transport, round_: _Round) -> None:
        self._transport = transport
        self._round = round_
        self._buffer: list[bytes] = []
        self._size = 0
        self._waiting = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._buffer and (self._round.load.in_hand <= 1 or len(data) >= _WRITE_THROUGH):
            self._write(data)  # nobody else to wait for, or too large to hold
            return
        if self._size + len(data) >= _WRITE_THROUGH:
            self.flush()
            self._write(data)
            return
        if not data:
            return
        self._buffer.append(bytes(data))
        self._size += len(data)
        if not self._waiting:
            self._waiting = True
            self._round.wait(self)

    def flush(self) -> None:
        """Write what is buffered, in one call."""
        self._waiting = False
        buffer = self._buffer
        if not buffer:
            return
        data = buffer[0] if len(buffer) == 1 else b"".join(buffer)
        buffer.clear()
        self._size = 0
        self._write(data)

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._transport.is_closing():  # a client gone meanwhile: nobody to write to
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a CoalescingTransport, counting the requests in hand so
    that a response with nobody else waiting is written at once."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._round = _round_of(self.loop)
        self._coalescing = CoalescingTransport(transport, self._round)
        super().connection_made(self._coalescing)  # type: ignore[arg-type]

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        self._round.load.in_hand += 1
        if self.config.reset_contextvars:  # uvicorn's opt-in, kept
            task = self.loop.create_task(cycle.run_asgi(app), context=contextvars.Context())
        else:
            task = self.loop.create_task(cycle.run_asgi(app))
        task.add_done_callback(self._request_done)
        self.tasks.add(task)

    def _request_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self._round.load.in_hand -= 1

    def on_response_complete(self) -> None:
        # Alone (the request's task still counts itself), or the round's first answer: out now,
        # so that a request waited on by another process (a function, a client) is not held
        # back. The round's later answers wait for its end, and go out together.
        round_ = self._round
        if round_.load.in_hand <= 1 or round_.first_answer():
            self._coalescing.flush()
        super().on_response_complete()
