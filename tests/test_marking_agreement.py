"""Cohen's kappa and weighted kappa against values worked out by hand (lms.assignments.agreement, pure)."""

from __future__ import annotations

import pytest

from lms.assignments.agreement import disagreement_weight, kappa

# Ten pairs (first marker, second marker) on a 3-level scale, as a table of counts (rows: first, columns: second):
#   [[4, 1, 0],
#    [1, 2, 1],
#    [0, 0, 1]]
# Row sums 5, 4, 1; column sums 5, 3, 2.
TEN = [(0, 0)] * 4 + [(0, 1), (1, 0)] + [(1, 1)] * 2 + [(1, 2), (2, 2)]


def test_cohens_kappa_by_hand():
    # p_o = (4 + 2 + 1) / 10 = 0.7; p_e = (5*5 + 4*3 + 1*2) / 100 = 0.39; kappa = 0.31 / 0.61 = 31/61.
    result = kappa(TEN, 3)
    assert result.n == 10
    assert result.observed == pytest.approx(0.7)
    assert result.kappa == pytest.approx(31 / 61)
    assert result.label == "moderate"


def test_quadratic_weighted_kappa_by_hand():
    # Weights (i-j)^2 / 4: a near miss counts 0.25, two levels apart 1.
    # Seen: three near misses, 3 * 0.25 / 10 = 0.075.
    # By chance: (0.25*5*3 + 1*5*2 + 0.25*4*5 + 0.25*4*2 + 1*1*5 + 0.25*1*3) / 100 = 26.5 / 100 = 0.265.
    # kappa_w = 1 - 0.075 / 0.265 = 38/53.
    assert kappa(TEN, 3, "quadratic").kappa == pytest.approx(38 / 53)


def test_linear_weighted_kappa_by_hand():
    # Weights |i-j| / 2. Seen: 3 * 0.5 / 10 = 0.15. By chance: (7.5 + 10 + 10 + 4 + 5 + 1.5) / 100 = 0.38.
    # kappa_w = 1 - 0.15 / 0.38 = 23/38.
    assert kappa(TEN, 3, "linear").kappa == pytest.approx(23 / 38)


def test_an_unused_level_changes_no_kappa():
    # The same pairs on a 4-level scale (nobody chose the top level): nominal kappa is unchanged, and weighted
    # kappa too, since rescaling every weight by the same factor cancels out.
    assert kappa(TEN, 4).kappa == pytest.approx(31 / 61)
    assert kappa(TEN, 4, "quadratic").kappa == pytest.approx(38 / 53)
    assert kappa(TEN, 4, "linear").kappa == pytest.approx(23 / 38)


@pytest.mark.parametrize("weights", ["nominal", "linear", "quadratic"])
def test_perfect_agreement_is_one(weights):
    result = kappa([(0, 0), (1, 1), (2, 2), (3, 3), (2, 2)], 4, weights)
    assert result.kappa == pytest.approx(1.0)
    assert result.observed == 1.0 and result.label == "almost perfect"


def test_agreement_no_better_than_chance_is_zero():
    # [[1, 1], [1, 1]]: p_o = 0.5 and p_e = (2*2 + 2*2) / 16 = 0.5.
    assert kappa([(0, 0), (0, 1), (1, 0), (1, 1)], 2).kappa == pytest.approx(0.0)
    # One marker always says "1", the other splits: p_o = 0.5 = p_e, so kappa is 0, and it is defined.
    assert kappa([(1, 0), (1, 1)], 2).kappa == pytest.approx(0.0)


def test_systematic_disagreement_is_below_zero():
    # p_o = 0, p_e = 0.5: kappa = -1.
    result = kappa([(0, 1), (1, 0)], 2)
    assert result.kappa == pytest.approx(-1.0) and result.label == "worse than chance"


@pytest.mark.parametrize("weights", ["nominal", "linear", "quadratic"])
def test_one_level_for_everything_leaves_kappa_undefined(weights):
    # Both markers chose "sound" every time: chance alone gives full agreement, so kappa would be 0 / 0.
    result = kappa([(2, 2)] * 5, 4, weights)
    assert result.kappa is None and result.n == 5 and result.observed == 1.0
    assert "one and the same level" in result.undefined and result.label == "undefined"


def test_a_single_category_scale_and_no_pairs_are_undefined():
    assert kappa([(0, 0), (0, 0)], 1).kappa is None
    assert kappa([(0, 0)], 1, "quadratic").kappa is None
    empty = kappa([], 4)
    assert empty.kappa is None and empty.n == 0 and empty.undefined == "no work was marked by both"


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        kappa([(0, 3)], 3)
    with pytest.raises(ValueError, match="unknown weights"):
        kappa([(0, 0)], 3, "cubic")
    assert (
        disagreement_weight(0, 3, 4, "linear") == 1.0 and disagreement_weight(1, 2, 4, "quadratic") == 1 / 9
    )
