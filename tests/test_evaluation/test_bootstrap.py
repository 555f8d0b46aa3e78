"""bootstrap_interval: known answers and its agreement with scipy."""
import numpy as np
import pytest
from scipy import stats

from mmfocus.evaluation.functional import binary_auc, bootstrap_interval


def test_degenerate_cases_have_known_intervals():
    np.testing.assert_allclose(bootstrap_interval(np.full(20, 0.3), n=50),
                               (0.3, 0.3))
    s = np.r_[np.zeros(10), np.ones(10)]
    assert bootstrap_interval(s, labels=s, n=50) == (1.0, 1.0)
    assert bootstrap_interval(1 - s, labels=s, n=50) == (0.0, 0.0)
    lo, hi = bootstrap_interval(np.ones(3), labels=np.ones(3), n=20)
    assert np.isnan(lo) and np.isnan(hi)  # one class: nothing to score
    with pytest.raises(ValueError, match='labels'):
        bootstrap_interval(np.ones(3), labels=np.ones(4))


def test_mean_interval_matches_scipy_percentile_bootstrap():
    x = np.random.default_rng(1).normal(size=200)
    lo, hi = bootstrap_interval(x, n=4000, seed=0)
    ref = stats.bootstrap((x, ), np.mean, n_resamples=4000,
                          method='percentile', random_state=0
                          ).confidence_interval
    assert abs(lo - ref.low) < 0.02 and abs(hi - ref.high) < 0.02
    assert lo < x.mean() < hi


def test_auc_interval_covers_the_estimate_and_narrows_with_n():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(300), np.ones(300)].astype(bool)
    s = rng.normal(size=600) + y
    auc = binary_auc(s, y)
    lo, hi = bootstrap_interval(s, labels=y, n=500)
    assert lo < auc < hi
    lo2, hi2 = bootstrap_interval(s[::6], labels=y[::6], n=500)
    assert hi2 - lo2 > hi - lo


def test_histogram_bootstrap_interval_known_cases():
    from mmfocus.evaluation.functional import histogram_bootstrap_interval
    hist = np.zeros(11, np.int64)
    assert all(np.isnan(histogram_bootstrap_interval(hist)))
    hist[7] = 50  # fifty values of 0.7: no spread
    assert histogram_bootstrap_interval(hist) == (0.7, 0.7)
    # values 0 and 1 in equal numbers: the mean's interval is about
    # 0.5 +- 1.96 * 0.5 / sqrt(400)
    hist[:] = 0
    hist[0] = hist[10] = 200
    lo, hi = histogram_bootstrap_interval(hist, n=4000)
    assert abs(lo - (0.5 - 0.049)) < 0.01 and abs(hi - (0.5 + 0.049)) < 0.01
