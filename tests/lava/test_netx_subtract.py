"""lava-dl netx loads ff_neuro's LIFResetSubtract through the explicit patch point, and only there.

Real lava-dl 0.6.0 and Lava: the file is written by ``export_spec(..., netx_reset="subtract")``, built by
lava-dl's own ``Network`` inside ``netx_reset_subtract()`` and run in Lava ``fixed_pt``; its counts are
compared with ``ff-neuro deploy --fixed-point``'s Lava graph (``run_lava``) and the integer emulation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ff_neuro.hardware.export import export_spec
from ff_neuro.hardware.quantize import quantize_spec

pytestmark = pytest.mark.lava


@pytest.fixture(scope="module")
def native_spec(native_run_trained, mnist_small):
    """The tiny spike-units network as spikes, T = 8: IF neurons that reset by subtraction."""
    from ff_neuro.spiking import spiking_spec_from_run

    spec = spiking_spec_from_run(
        native_run_trained, timesteps=8, variant="static", dataset=mnist_small
    )
    assert {layer.reset for layer in spec.layers} == {"subtract"}
    return spec


@pytest.fixture(scope="module")
def native_inputs(native_spec, mnist_small):
    from ff_neuro.lava.deploy import spec_inputs
    from ff_neuro.spiking.network import labels_for

    x, _ = mnist_small.test.tensors(3)
    return spec_inputs(native_spec, labels_for(native_spec).neutral(x))


def test_netx_runs_reset_by_subtraction_with_the_deployed_counts(
    native_spec, native_inputs, tmp_path
):
    from ff_neuro.hardware.emulate import emulate_fixed
    from ff_neuro.hardware.netx_lava import run_netx, subtract_file
    from ff_neuro.lava import run_lava

    path = export_spec(native_spec, "loihi2", tmp_path, "netx", netx_reset="subtract")[0]
    assert subtract_file(path)
    net = quantize_spec(native_spec, "loihi2")
    got = run_netx(
        path, net.encode(native_inputs), native_spec.timesteps
    )  # Lava's reference models
    deployed = run_lava(net, native_inputs, record_counts=True).counts
    emulated = [c.numpy() for c in emulate_fixed(net, native_inputs)]
    assert sum(int(c.sum()) for c in got) > 0
    for a, b, c in zip(got, deployed, emulated):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    # the reset matters: the same integer network with reset to zero counts differently
    zero = replace(net, layers=[replace(layer, reset="zero") for layer in net.layers])
    assert any(
        not np.array_equal(a, c.numpy()) for a, c in zip(got, emulate_fixed(zero, native_inputs))
    )


def test_plain_lava_dl_refuses_the_file_loudly(native_spec, tmp_path):
    """Without the patch point lava-dl does not know CUBA_SUBTRACT: it fails building the block (it
    does not run the network with reset to zero)."""
    from ff_neuro.hardware.netx_lava import import_netx

    path = export_spec(native_spec, "loihi2", tmp_path, "netx", netx_reset="subtract")[0]
    with pytest.raises(AttributeError):
        import_netx().hdf5.Network(
            net_config=str(path), input_message_bits=24, reset_interval=8, reset_offset=1
        )


def test_the_patch_is_scoped_and_builds_lif_reset_subtract(native_spec, tmp_path):
    from ff_neuro.hardware.netx_lava import import_netx
    from ff_neuro.lava.netx_subtract import netx_reset_subtract
    from ff_neuro.lava.procs.lif_subtract import LIFResetSubtract

    network = import_netx().hdf5.Network
    original = network.__dict__["get_neuron_params"]
    path = export_spec(native_spec, "loihi2", tmp_path, "netx", netx_reset="subtract")[0]
    kw = dict(net_config=str(path), input_message_bits=24, reset_interval=8, reset_offset=1)
    with netx_reset_subtract() as netx:
        assert network.__dict__["get_neuron_params"] is not original
        net = netx.hdf5.Network(**kw)
        with pytest.raises(ValueError, match="reset_interval"):
            netx.hdf5.Network(net_config=str(path), input_message_bits=24)
    assert network.__dict__["get_neuron_params"] is original
    q = quantize_spec(native_spec, "loihi2")
    for block, layer in zip(net.layers, q.layers):
        assert type(block.neuron) is LIFResetSubtract
        assert int(np.asarray(block.neuron.bias_exp.init).ravel()[0]) == layer.bias_exp
    with pytest.raises(RuntimeError), netx_reset_subtract():
        raise RuntimeError("inside")
    assert network.__dict__["get_neuron_params"] is original
