import numpy as np
import pytest

import dln


def test_data_stats_matches_definitions():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = rng.standard_normal(50)
    st = dln.data_stats(X, y)
    np.testing.assert_allclose(st.A0, X.T @ X / 50)
    np.testing.assert_allclose(st.Exy, X.T @ y / 50)
    assert st.Ey2 == pytest.approx(y @ y / 50)
    # the best unregularised linear fit has the least-squares residual
    p = np.linalg.lstsq(X, y, rcond=None)[0]
    assert st.best_linear_loss == pytest.approx(np.mean((X @ p - y) ** 2), rel=1e-10)


def test_random_stats_has_requested_spectrum_and_signal():
    st = dln.random_stats(6, seed=3, cond=1e4, signal=2.5, label_noise=0.2)
    assert st.a_max / st.a_min == pytest.approx(1e4, rel=1e-8)
    assert st.signal == pytest.approx(2.5)
    assert st.best_linear_loss == pytest.approx(0.2, rel=1e-6)


def test_eigenbasis_reconstructs_moments():
    st = dln.random_stats(5, seed=1, cond=30)
    Q, a = st.eigenvectors, st.eigenvalues
    np.testing.assert_allclose((Q * a) @ Q.T, st.A0, atol=1e-12)
    np.testing.assert_allclose(Q @ st.exy_eigen, st.Exy, atol=1e-12)


def test_singular_A0_with_consistent_signal_is_accepted():
    A0 = np.diag([1.0, 0.0])
    st = dln.DataStats(A0, np.array([0.5, 0.0]), 1.0)
    assert st.eigenvalues[0] == 0.0
    assert np.all(st.exy_eigen[st.eigenvalues == 0] == 0)


@pytest.mark.parametrize(
    "A0, Exy, Ey2, message",
    [
        (np.eye(2), np.ones(3), 1.0, "length"),
        (np.ones((2, 3)), np.ones(2), 1.0, "square"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), np.ones(2), 5.0, "symmetric"),
        (np.diag([1.0, -1.0]), np.zeros(2), 1.0, "positive semi-definite"),
        (np.eye(2), np.array([np.nan, 0.0]), 1.0, "NaN"),
        (np.eye(2), np.zeros(2), np.inf, "finite"),
        (np.eye(2), np.zeros(2), -1.0, "non-negative"),
        (np.diag([1.0, 0.0]), np.array([0.1, 0.5]), 10.0, "one distribution"),
        (np.eye(2), np.array([1.0, 1.0]), 1.0, "smaller than"),
    ],
)
def test_bad_moments_raise_clear_errors(A0, Exy, Ey2, message):
    with pytest.raises(ValueError, match=message):
        dln.DataStats(A0, Exy, Ey2)


def test_bad_samples_raise():
    with pytest.raises(ValueError, match="rows"):
        dln.data_stats(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="2-dimensional"):
        dln.data_stats(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="cond"):
        dln.random_stats(3, seed=0, cond=0.5)
