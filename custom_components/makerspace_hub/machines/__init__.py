"""Machines: RFID boards, members and the access rules that decide who may run a machine."""
