"""Development tools outside the integration: the demo makerspace and its fakes."""
