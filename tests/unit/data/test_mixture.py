import json

import pytest

from gatedloop.data import mixture


def anchor_file(tmp_path, n, name="anchors.jsonl", **extra):
    path = tmp_path / name
    rows = [{"id": f"a{i}", "content": f"def anchor_{i}():\n    return {i}\n", "verified": True, **extra}
            for i in range(n)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_the_studys_counts_for_5000_at_5_and_25_percent():
    assert mixture.mixture_counts(5000, 0.05, 0.25) == (3500, 250, 1250)
    assert mixture.mixture_counts(5000, 0.0, 0.0) == (5000, 0, 0)
    assert sum(mixture.mixture_counts(7, 0.3, 0.3)) == 7  # rounded counts, the total kept


def test_a_mixture_without_synthetic_samples_is_refused():
    with pytest.raises(ValueError, match="leave no synthetic sample of 10"):
        mixture.mixture_counts(10, 0.5, 0.5)


def test_anchor_slices_are_disjoint_never_repeat_and_cover_the_rounds(tmp_path):
    rows = mixture.read_anchors(anchor_file(tmp_path, 12))
    slices = [[row["id"] for row in mixture.anchor_slice(rows, 3, r, seed=7)] for r in range(1, 5)]
    assert all(len(ids) == 3 for ids in slices)
    flat = [i for ids in slices for i in ids]
    assert len(set(flat)) == 12  # four rounds x 3: every row once, none twice
    assert slices[0] == [row["id"] for row in mixture.anchor_slice(rows, 3, 1, seed=7)]  # reproducible
    assert slices[0] != [row["id"] for row in mixture.anchor_slice(rows, 3, 1, seed=8)]  # ordered by the seed


def test_a_round_past_the_anchors_is_refused_and_the_supply_check_names_the_numbers(tmp_path):
    path = anchor_file(tmp_path, 5)
    rows = mixture.read_anchors(path)
    with pytest.raises(ValueError, match=r"round 3 needs anchor rows 5\.\.6 .* the file has 5"):
        mixture.anchor_slice(rows, 2, 3, seed=0)
    with pytest.raises(ValueError, match=rf"{path}: 3 rounds x 2 anchors per round need 6 verified rows; the file "
                                         r"has 5"):
        mixture.check_anchor_supply(path, rows, 2, 3)
    mixture.check_anchor_supply(path, rows, 1, 5)


def test_rows_not_verified_and_repeated_contents_are_refused_by_line(tmp_path):
    path = anchor_file(tmp_path, 2)
    path.write_text(path.read_text() + json.dumps({"id": "x", "content": "print(1)", "verified": "yes"}) + "\n")
    with pytest.raises(ValueError, match=r"anchors.jsonl:3: anchor 'x' is not 'verified: true'"):
        mixture.read_anchors(path)
    path = anchor_file(tmp_path, 2)
    path.write_text(path.read_text() + path.read_text().splitlines()[0].replace('"a0"', '"again"') + "\n")
    with pytest.raises(ValueError, match=r":3: anchor 'again' repeats the content of line 1"):
        mixture.read_anchors(path)
    path.write_text(json.dumps({"content": "  ", "verified": True}) + "\n")
    with pytest.raises(ValueError, match=r":1: a anchor row needs a non-empty string 'content'"):
        mixture.read_anchors(path)


def test_overlap_with_the_pool_and_the_synthetic_samples_is_found(tmp_path):
    rows = mixture.read_anchors(anchor_file(tmp_path, 3))
    assert mixture.pool_overlap(rows, ["def other():"]) is None
    assert mixture.pool_overlap(rows, [rows[1]["content"].strip() + "\n\n"])["id"] == "a1"
    samples = [{"id": "s0", "prompt": "def anchor_2():", "completion": "\n    return 2\n"},
               {"id": "s1", "prompt": "def f():", "completion": " pass"}]
    assert mixture.synthetic_overlap(rows, samples) == [("a2", "s0")]


def test_natural_language_rows_of_a_round_or_of_none_are_drawn_seeded(tmp_path):
    path = tmp_path / "nl.jsonl"
    rows = [{"content": f"text {i}", "round": 1 + i % 2} for i in range(4)] + [{"content": "any round"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    read = mixture.read_natural_language(path)
    drawn = mixture.natural_language_sample(read, 3, 2, seed=1)
    assert {row["content"] for row in drawn} == {"text 1", "text 3", "any round"}
    assert drawn == mixture.natural_language_sample(read, 3, 2, seed=1)
    with pytest.raises(ValueError, match="round 1 needs 4 natural-language rows; 3 are eligible"):
        mixture.check_natural_language_supply(path, read, 4, 2)
    samples = mixture.as_training_samples(drawn, mixture.NL_PREFIX)
    assert all(s["id"].startswith("nl:line") and s["prompt"] == "" for s in samples)
