"""Tests of the machines wing: boards, members, access, webhooks."""
