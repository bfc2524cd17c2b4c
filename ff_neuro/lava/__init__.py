"""Deployment of spiking FF networks on Lava (needs the ``lava`` extra: ``pip install 'ff_neuro[lava]'``).

Importing this package checks that lava-nc is installed (else :class:`LavaNotInstalledError`)
and applies the Python 3.11 compatibility fix of :mod:`ff_neuro.lava.compat`.
"""

from .compat import LavaNotInstalledError, require_lava

require_lava()

from .graph import LavaResult, lava_conv_weight, run_lava  # noqa: E402

__all__ = ["LavaNotInstalledError", "LavaResult", "lava_conv_weight", "run_lava"]
