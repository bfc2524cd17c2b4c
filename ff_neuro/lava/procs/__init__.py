"""Custom Lava processes. Lava's compiler imports every module in this folder: keep it import-clean."""
