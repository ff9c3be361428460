"""pydl.utils.text.TextVectorization: vocabulary order, ids, padding, OOV, characters, decode."""
import numpy as np
import pytest

from pydl.utils.text import TextVectorization

SLOTS = ["arrive Taipei on November 2nd", "leave Taipei on November 2nd", "arrive Tokyo!"]


def test_vocabulary_by_count_then_first_seen():
    vec = TextVectorization().adapt(SLOTS)
    # counts: arrive 2, taipei 2, on 2, november 2, 2nd 2, leave 1, tokyo 1 (punctuation stripped)
    assert vec.get_vocabulary() == ["", "[UNK]", "arrive", "taipei", "on", "november", "2nd", "leave", "tokyo"]
    ids = vec(["Leave TOKYO on Friday."])
    np.testing.assert_array_equal(ids, [[7, 8, 4, 1]])
    assert ids.dtype == np.int64


def test_padding_length_and_max_tokens():
    vec = TextVectorization(max_tokens=5, output_sequence_length=6).adapt(SLOTS)
    assert vec.get_vocabulary() == ["", "[UNK]", "arrive", "taipei", "on"]
    np.testing.assert_array_equal(vec(["arrive Taipei on November 2nd", "on"]),
                                  [[2, 3, 4, 1, 1, 0], [4, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(TextVectorization(output_sequence_length=2, vocabulary=["a", "b"])(["b a b"]),
                                  [[3, 2]])
    # without a length: the longest row of the call, zeros at the end
    np.testing.assert_array_equal(TextVectorization(vocabulary=["a"])(["a a a", "a"]), [[2, 2, 2], [2, 0, 0]])


def test_characters_for_chinese():
    vec = TextVectorization(split="character").adapt(["我很開心", "我很難過。"])
    assert vec.get_vocabulary()[:4] == ["", "[UNK]", "我", "很"]
    assert "。" not in vec.get_vocabulary()  # wide punctuation is stripped too
    ids = vec(["開心"])
    assert vec.decode(ids[0]) == ["開", "心"]


def test_decode_round_trip_and_errors():
    vec = TextVectorization(output_sequence_length=5).adapt(SLOTS)
    ids = vec(["arrive taipei", "leave"])
    assert vec.decode(ids) == [["arrive", "taipei"], ["leave"]]
    assert vec.decode(ids[1], skip_padding=False) == ["leave", "", "", "", ""]
    with pytest.raises(ValueError, match=r"ids must be in \[0, 9\)"):
        vec.decode([9])
    with pytest.raises(TypeError, match="ids must be integers"):
        vec.decode([1.0])
    with pytest.raises(TypeError, match="not one str"):
        vec("arrive")
    with pytest.raises(TypeError, match="text 1 is int"):
        vec(["a", 3])
    with pytest.raises(ValueError, match="no vocabulary yet"):
        TextVectorization()(["a"])
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=2)
    with pytest.raises(ValueError, match="split must be"):
        TextVectorization(split="words")
    with pytest.raises(ValueError, match="distinct tokens"):
        TextVectorization(vocabulary=["a", "a"])
