"""Tests of the recording wing: the schedule, the log, the settings and the sensors."""
