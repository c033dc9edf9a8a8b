"""Printers: 3D-printer failure detection from camera snapshots scored by an Obico ML API."""
