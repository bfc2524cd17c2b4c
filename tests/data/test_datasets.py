import numpy as np

from ff_neuro.data import train_val_split


def test_split_is_seeded_disjoint_and_complete():
    x = np.arange(100, dtype=np.uint8).reshape(100, 1, 1)
    y = np.arange(100) % 10
    tr, va = train_val_split(x, y, 20, seed=3)
    tr2, va2 = train_val_split(x, y, 20, seed=3)
    assert len(tr) == 80 and len(va) == 20
    np.testing.assert_array_equal(va.x, va2.x)
    assert set(tr.x.ravel()) | set(va.x.ravel()) == set(range(100))
    assert not set(tr.x.ravel()) & set(va.x.ravel())
    assert not np.array_equal(train_val_split(x, y, 20, seed=4)[1].x, va.x)


def test_real_mnist_shapes(mnist):
    assert (len(mnist.train), len(mnist.val), len(mnist.test)) == (50_000, 10_000, 10_000)
    assert mnist.train.x.dtype == np.uint8 and mnist.train.x.shape[1:] == (28, 28)
    assert set(np.unique(mnist.test.y)) == set(range(10))
