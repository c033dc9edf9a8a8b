"""What the subentry flows of the three wings share: siblings, uniqueness, finishing.

Each flow validates through its wing's settings classes, so what the UI accepts is
exactly what the runtime can read. Names are unique per kind within a hub.
"""

from typing import Any, ClassVar

from homeassistant.config_entries import ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

MAX_SCHEDULE_SECONDS = 86400


def clean_list(values: list[str] | None) -> list[str]:
    """Strip entries of a free-text list and drop the empty ones, keeping order."""
    return list(dict.fromkeys(value.strip() for value in values or [] if value.strip()))


def seconds_selector(minimum: int) -> NumberSelector:
    """Return a whole-seconds box from `minimum` up to a day."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=MAX_SCHEDULE_SECONDS,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


class HubSubentryFlow(ConfigSubentryFlow):
    """What the three kinds share: siblings, uniqueness, finishing."""

    subentry_type: ClassVar[str]

    def _current(self) -> dict[str, Any]:
        """Return the stored data when reconfiguring, else nothing."""
        if self.source == "reconfigure":
            return dict(self._get_reconfigure_subentry().data)
        return {}

    def _siblings(self) -> list[ConfigSubentry]:
        """Return the other subentries of this kind in the hub."""
        own = self.context.get("subentry_id") if self.source == "reconfigure" else None
        return [
            subentry
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == self.subentry_type and subentry.subentry_id != own
        ]

    def _finish(
        self, *, title: str, data: dict[str, Any], unique_id: str, **create: Any
    ) -> SubentryFlowResult:
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=title,
                data=data,
                unique_id=unique_id,
            )
        return self.async_create_entry(title=title, data=data, unique_id=unique_id, **create)
