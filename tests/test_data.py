"""The toy datasets: their shapes, their geometry without noise, their noise, their seeds."""

import math
import random
import statistics

import pytest

from gategrad.data import make_circles, make_moons, make_spiral, make_xor


def test_xor_is_the_four_corners_labelled_by_exclusive_or():
    X, y = make_xor()
    assert X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y == [0, 1, 1, 0]


@pytest.mark.parametrize("n, sizes", [(100, (50, 50)), (101, (50, 51)), (2, (1, 1))])
def test_moons_splits_the_points_between_the_two_classes(n, sizes):
    X, y = make_moons(n)
    assert len(X) == n and all(len(p) == 2 for p in X)
    assert (y.count(0), y.count(1)) == sizes


def test_noiseless_moons_lie_on_their_half_circles():
    X, y = make_moons(100, noise=0.0)
    for (x0, x1), label in zip(X, y):
        if label == 0:  # upper moon: the unit circle's top half
            assert math.hypot(x0, x1) == pytest.approx(1.0, abs=1e-12)
            assert x1 >= -1e-12
        else:  # lower moon: a unit circle around (1, 0.5), bottom half
            assert math.hypot(x0 - 1.0, x1 - 0.5) == pytest.approx(1.0, abs=1e-12)
            assert x1 <= 0.5 + 1e-12


def test_noiseless_circles_have_radius_one_and_factor():
    X, y = make_circles(100, noise=0.0, factor=0.3)
    radii = [math.hypot(x0, x1) for x0, x1 in X]
    assert sorted({round(r, 12) for r, label in zip(radii, y) if label == 0}) == [1.0]
    assert sorted({round(r, 12) for r, label in zip(radii, y) if label == 1}) == [0.3]
    assert y.count(0) == y.count(1) == 50


def test_noise_is_gaussian_with_the_asked_standard_deviation():
    # The same seed shuffles the same way whatever the noise, so noisy minus clean is the noise.
    clean, _ = make_moons(2000, noise=0.0, seed=3)
    noisy, _ = make_moons(2000, noise=0.1, seed=3)
    offsets = [a - b for p, q in zip(noisy, clean) for a, b in zip(p, q)]
    assert abs(statistics.fmean(offsets)) < 0.01
    assert statistics.stdev(offsets) == pytest.approx(0.1, abs=0.005)


def test_spiral_has_one_arm_per_class_winding_out_to_radius_one():
    X, y = make_spiral(n_per_class=40, classes=4, noise=0.0)
    assert len(X) == 160
    assert [y.count(c) for c in range(4)] == [40, 40, 40, 40]
    radii = [math.hypot(x0, x1) for x0, x1 in X[:40]]
    assert radii[0] == 0.0 and radii[-1] == pytest.approx(1.0, abs=1e-12)
    assert radii == sorted(radii)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spiral])
def test_the_same_seed_gives_the_same_data_and_leaves_the_global_random_state_alone(make):
    state = random.getstate()
    first, second, other = make(seed=7), make(seed=7), make(seed=8)
    assert first == second
    assert first[0] != other[0]
    assert random.getstate() == state


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: make_moons(1), ValueError, "number of points"),
        (lambda: make_moons(10.0), ValueError, "number of points"),
        (lambda: make_moons(10, noise=-0.1), ValueError, "noise"),
        (lambda: make_moons(10, noise=math.inf), ValueError, "noise"),
        (lambda: make_moons(10, seed=None), TypeError, "seed"),
        (lambda: make_circles(10, factor=1.0), ValueError, "factor"),
        (lambda: make_spiral(10, classes=1), ValueError, "classes"),
        (lambda: make_spiral(0), ValueError, "number of points"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(call, error, words):
    with pytest.raises(error, match=words):
        call()
