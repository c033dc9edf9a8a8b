"""What entities follow: a signal on every change, and a stream of events."""

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, callback


class EventSource[*Ts]:
    """Calls its listeners on every change and its event listeners on every event.

    A machine, printer or recording sensor calls `_notify()` after it changed (its
    entities write their state) and `_emit(*event)` for what happened (its event
    entity fires it).
    """

    def __init__(self) -> None:
        """Start without listeners."""
        self._listeners: list[CALLBACK_TYPE] = []
        self._event_listeners: list[Callable[[*Ts], None]] = []

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` on every change; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_add_event_listener(self, listener: Callable[[*Ts], None]) -> CALLBACK_TYPE:
        """Call `listener` with every event; return the remover."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def _emit(self, *event: *Ts) -> None:
        for listener in list(self._event_listeners):
            listener(*event)
