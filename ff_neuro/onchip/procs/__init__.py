"""Lava Processes of the on-chip learning graph (this folder holds only importable process modules:
Lava's compiler imports every .py file next to a Process class)."""
