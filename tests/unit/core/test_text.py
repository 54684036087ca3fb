"""The two splits of code text (gatedloop.core.text): where they agree and where they differ."""

from __future__ import annotations

from gatedloop.core.text import lexical_tokens, word_tokens


def test_both_splits_agree_on_plain_code():
    code = "def f(x_1):\n    return x_1+7  # ok"
    expected = ["def", "f", "(", "x_1", ")", ":", "return", "x_1", "+", "7", "#", "ok"]
    assert word_tokens(code) == lexical_tokens(code) == expected


def test_numbers_and_non_ascii_letters_split_differently():
    assert word_tokens("x = 1.0") == ["x", "=", "1", ".", "0"]
    assert lexical_tokens("x = 1.0") == ["x", "=", "1.0"]
    assert word_tokens("2x") == ["2x"] and lexical_tokens("2x") == ["2", "x"]
    assert word_tokens("été") == ["été"] and lexical_tokens("été") == ["é", "té"]
