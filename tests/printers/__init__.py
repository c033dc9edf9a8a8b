"""Tests of the printers wing."""
