"""Who follows a source of changes: one list of listeners, and a change-plus-event source.

Every source an entity follows (a machine, a printer, a recording sensor, the members
file, the ML service, a hub's storage) keeps its listeners in a `Listeners`.
"""

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, callback


class Listeners[*Ts]:
    """Callbacks added and removed by their followers, all called on each change."""

    def __init__(self) -> None:
        """Start without listeners."""
        self._callbacks: list[Callable[[*Ts], None]] = []

    @callback
    def add(self, listener: Callable[[*Ts], None]) -> CALLBACK_TYPE:
        """Call `listener` on every change; return the remover."""
        self._callbacks.append(listener)
        return lambda: self._callbacks.remove(listener)

    @callback
    def call(self, *args: *Ts) -> None:
        """Call every listener (one that removes itself meanwhile is still called once)."""
        for listener in list(self._callbacks):
            listener(*args)


class EventSource[*Ts]:
    """Calls its listeners on every change and its event listeners on every event.

    A machine, printer or recording sensor calls `_notify()` after it changed (its
    entities write their state) and `_emit(*event)` for what happened (its event
    entity fires it).
    """

    def __init__(self) -> None:
        """Start without listeners."""
        self._changes: Listeners[()] = Listeners()
        self._events: Listeners[*Ts] = Listeners()

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` on every change; return the remover."""
        return self._changes.add(listener)

    @callback
    def async_add_event_listener(self, listener: Callable[[*Ts], None]) -> CALLBACK_TYPE:
        """Call `listener` with every event; return the remover."""
        return self._events.add(listener)

    @callback
    def _notify(self) -> None:
        self._changes.call()

    @callback
    def _emit(self, *event: *Ts) -> None:
        self._events.call(*event)
