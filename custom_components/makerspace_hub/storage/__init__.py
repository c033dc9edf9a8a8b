"""Storage: every owner's state on disk, written behind with bounded saves, and its health."""
