"""Tests of the storage engine: state files, owner stores, a hub's storage and its health."""
