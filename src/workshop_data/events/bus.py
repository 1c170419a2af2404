"""The event bus: writers publish after their commit, listeners subscribe.

`publish` is called only once the write has committed; it never raises into the writer (a
listener that fails is logged and the others still hear the event) and never waits: a
listener runs on the publisher's thread and must only hand the event on (to a queue, a
counter, a task), never do I/O itself. `LocalBus` delivers within the process; a bus shared
between processes implements the same protocol."""

import logging
from collections.abc import Callable
from typing import Protocol

from workshop_data.events.schemas import Event

log = logging.getLogger("workshop_data.events")

Listener = Callable[[Event], None]
Unsubscribe = Callable[[], None]


class EventBus(Protocol):
    def publish(self, event: Event) -> None:
        """Deliver `event` to every listener; never raises."""

    def subscribe(self, listener: Listener) -> Unsubscribe:
        """Call `listener` with every event published from now on, until the returned
        function is called."""


class LocalBus:
    """The in-process bus: each listener is called in turn, in the order they subscribed."""

    def __init__(self) -> None:
        self._listeners: tuple[Listener, ...] = ()

    def publish(self, event: Event) -> None:
        # A copy taken once: a listener that (un)subscribes changes the next event's list.
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("an event listener failed on %s", type(event).__name__)

    def subscribe(self, listener: Listener) -> Unsubscribe:
        self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            self._listeners = tuple(each for each in self._listeners if each is not listener)

        return unsubscribe
