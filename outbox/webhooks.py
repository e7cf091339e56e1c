"""The registry of webhook events: each producing app registers its events at start-up
(``AppConfig.ready``) with the serializer that documents the payload's ``data``.

``webhook_emit`` refuses an event nobody registered, so a typo in a producer fails its
test instead of queueing deliveries no endpoint can subscribe to.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.serializers import Serializer


@dataclass(frozen=True)
class Event:
    serializer: type[Serializer]
    description: str


_EVENTS: dict[str, Event] = {}


def register_event(name: str, *, serializer: type[Serializer], description: str) -> None:
    """Register (or re-register, as a test reload does) one event."""
    _EVENTS[name] = Event(serializer=serializer, description=description)


def registered_events() -> dict[str, tuple[type[Serializer], str]]:
    """Every registered event: name → (payload serializer, description), sorted by name."""
    return {name: (e.serializer, e.description) for name, e in sorted(_EVENTS.items())}


def is_registered(name: str) -> bool:
    return name in _EVENTS
