"""Recording sensors: scheduled recording from a camera, of entity samples, or of an action."""
