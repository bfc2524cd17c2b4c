"""The patch point that lets lava-dl's netx loader build ff_neuro's ``LIFResetSubtract``: opt-in, scoped.

lava-dl 0.6.0 reads a neuron with ``Network.get_neuron_params(neuron_config, ...)``, a staticmethod
that every ``create_*`` calls as ``Network.get_neuron_params`` (not ``self.``), so a subclass of
``Network`` cannot change it. It knows ``CUBA``/``LOIHI`` (Lava ``LIF``, or ``LIFReset`` with a reset
interval: reset to zero, ``bias_exp`` fixed at 6), ``SDNN`` and ``RF*``, and returns ``None`` for any
other type, so the block fails to build. ff_neuro writes subtractive neurons as
``type = "CUBA_SUBTRACT"`` with ``biasExp`` (:mod:`ff_neuro.hardware.netx`): a file that plain lava-dl
refuses, loudly, instead of running it with the wrong reset.

:func:`netx_reset_subtract` is a context manager. Inside it, ``Network.get_neuron_params`` is a
wrapper that answers ``CUBA_SUBTRACT`` neurons with what lava-dl answers for ``CUBA`` (its own code,
on a view of the group whose type reads ``CUBA``), except

    neuron_proc = LIFResetSubtract  (ff_neuro.lava.procs.lif_subtract; Lava's LIFReset, v[s] −= vth)
    bias_exp    = the file's biasExp  (the deployed network's; lava-dl fixes 6 for CUBA)

and passes every other type to lava-dl unchanged. On exit the original staticmethod is back, also
after an exception. Only the loading (``Network(...)``) needs to be inside; the processes it built
then run as any Lava graph, their models found next to ``LIFResetSubtract`` and chosen by the
``fixed_pt`` tag. The swap is a class attribute: do not build netx networks in other threads meanwhile.

    with netx_reset_subtract():
        net = netx.hdf5.Network(net_config=path, input_message_bits=24, reset_interval=T, reset_offset=1)

``LIFResetSubtract`` resets per window (it is a ``LIFReset``), so ``reset_interval`` is required.
"""

from __future__ import annotations

import contextlib

from ..hardware.netx import SUBTRACT_TYPE


class _TypedAs:
    """A read-only view of a netx neuron group (lava-dl's ``NetDict``) whose ``type`` reads ``as_type``."""

    def __init__(self, group, as_type: str):
        self._group, self._type = group, as_type

    def keys(self):
        return self._group.keys()

    def __getitem__(self, key):
        return self._type if key == "type" else self._group[key]


def _bias_exp(group) -> int:
    """The ``biasExp`` dataset of a neuron group (lava-dl's NetDict does not decode this key)."""
    if "biasExp" not in group.keys():
        raise ValueError(f"a {SUBTRACT_TYPE} neuron needs biasExp (written by ff-neuro export)")
    return int(group.f["biasExp"][()])


def subtract_neuron_params(original):
    """``get_neuron_params`` that builds ``CUBA_SUBTRACT`` neurons as ``LIFResetSubtract`` (module
    docstring) and leaves every other type to ``original``."""
    from .procs.lif_subtract import LIFResetSubtract

    def get_neuron_params(neuron_config, input=False, reset_interval=None, reset_offset=0, **kw):
        if neuron_config["type"] != SUBTRACT_TYPE:
            return original(neuron_config, input, reset_interval, reset_offset, **kw)
        if reset_interval is None:
            raise ValueError(
                f"{SUBTRACT_TYPE} neurons are LIFResetSubtract (a LIFReset): load the network with "
                "reset_interval=T (and reset_offset)"
            )
        params = original(
            _TypedAs(neuron_config, "CUBA"), input, reset_interval, reset_offset, **kw
        )
        params.update(neuron_proc=LIFResetSubtract, bias_exp=_bias_exp(neuron_config))
        return params

    return get_neuron_params


@contextlib.contextmanager
def netx_reset_subtract():
    """Within the block, lava-dl's netx loader builds ``CUBA_SUBTRACT`` neurons as ``LIFResetSubtract``
    (module docstring). Yields lava-dl's ``lava.lib.dl.netx`` module."""
    from ..hardware.netx_lava import import_netx

    netx = import_netx()
    network = netx.hdf5.Network
    saved = network.__dict__["get_neuron_params"]  # the staticmethod object itself
    network.get_neuron_params = staticmethod(subtract_neuron_params(saved.__func__))
    try:
        yield netx
    finally:
        network.get_neuron_params = saved
