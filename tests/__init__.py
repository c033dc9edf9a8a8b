"""Tests of makerspace_hub."""
