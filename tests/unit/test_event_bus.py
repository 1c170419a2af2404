"""The in-process event bus: every listener hears every event, in order; a failing listener
neither reaches the publisher nor silences the others; unsubscribing stops delivery."""

import logging
from datetime import datetime

import pytest

from workshop_data.events.bus import EventBus, LocalBus
from workshop_data.events.schemas import Event, ProgressChanged, SessionEnded, StepSaved

SAVED = StepSaved(
    user_id=1,
    workshop_type="ia",
    step_id="ia-3-4",
    version=2,
    saved_at=datetime(2026, 12, 8, 10, 42),
    device_id="phone",
)


def test_every_listener_hears_every_event_in_order() -> None:
    bus: EventBus = LocalBus()
    first: list[Event] = []
    second: list[Event] = []
    bus.subscribe(first.append)
    bus.subscribe(second.append)
    ended = SessionEnded(user_id=1, token_hash=None)
    bus.publish(SAVED)
    bus.publish(ended)
    assert first == second == [SAVED, ended]


def test_a_failing_listener_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = LocalBus()
    heard: list[Event] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("listener broke")

    bus.subscribe(broken)
    bus.subscribe(heard.append)
    with caplog.at_level(logging.ERROR, logger="workshop_data.events"):
        bus.publish(SAVED)  # does not raise
    assert heard == [SAVED]
    assert "StepSaved" in caplog.text and "listener broke" in caplog.text


def test_unsubscribe_stops_delivery_to_that_listener_only() -> None:
    bus = LocalBus()
    gone: list[Event] = []
    staying: list[Event] = []
    unsubscribe = bus.subscribe(gone.append)
    bus.subscribe(staying.append)
    bus.publish(SAVED)
    unsubscribe()
    unsubscribe()  # twice: harmless
    progress = ProgressChanged(user_id=1, workshop_type="ia", at=datetime(2026, 12, 8))
    bus.publish(progress)
    assert gone == [SAVED]
    assert staying == [SAVED, progress]


def test_a_listener_that_subscribes_another_while_hearing_does_not_break_delivery() -> None:
    bus = LocalBus()
    late: list[Event] = []

    def subscribing(_event: Event) -> None:
        bus.subscribe(late.append)

    bus.subscribe(subscribing)
    bus.publish(SAVED)
    assert late == []  # it hears from the next event on
    bus.publish(SAVED)
    assert late == [SAVED]


def test_events_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SAVED.version = 3  # type: ignore[misc]
