"""The one split of code text (gatedloop.core.text) that every token-counting measure uses."""

from __future__ import annotations

from gatedloop.core.text import code_tokens


def test_code_splits_into_identifiers_numbers_and_single_marks():
    code = "def f(x_1):\n    return x_1+7  # ok"
    assert code_tokens(code) == ["def", "f", "(", "x_1", ")", ":", "return", "x_1", "+", "7", "#", "ok"]


def test_a_number_keeps_its_decimal_part_and_a_leading_digit_is_not_an_identifier():
    assert code_tokens("x = 1.0") == ["x", "=", "1.0"]
    assert code_tokens("2x") == ["2", "x"]
    assert code_tokens("a==b") == ["a", "=", "=", "b"]
