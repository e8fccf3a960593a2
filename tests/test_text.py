"""Text for language models: the shipped corpora (checked against the published sizes and hashes), the character
tokenizer, makemore's next-character examples, nanoGPT's random windows and the seeded split. Expected values
come from the data's README (counts, SHA-256) and from plain Python written beside each test."""

import hashlib

import numpy as np
import pytest

from tinygrad_lite import data


def test_names_are_makemores_32033_names_unchanged():
    words = data.names()
    assert len(words) == 32033 and len(set(words)) == 29494 and words[:3] == ["emma", "olivia", "ava"]
    assert set("".join(words)) == set("abcdefghijklmnopqrstuvwxyz")
    text = "\n".join(words).encode()
    assert hashlib.sha256(text).hexdigest() == "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"


def test_shakespeare_is_the_whole_text_unchanged():
    text = data.shakespeare()
    assert len(text) == 1115394 and len(set(text)) == 65 and text.startswith("First Citizen:\n")
    assert hashlib.sha256(text.encode()).hexdigest() == \
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def test_tokenizer_with_a_boundary_numbers_names_as_makemore():
    tok = data.CharTokenizer("".join(data.names()), boundary=".")
    assert tok.vocab_size == 27 and tok.chars[0] == "." and tok.chars[1] == "a" and tok.chars[26] == "z"
    ids = tok.encode("emma")
    assert ids.dtype == np.int64 and ids.tolist() == [ord(c) - ord("a") + 1 for c in "emma"]
    assert tok.decode(ids) == "emma" and tok.decode([0, 1, 0]) == ".a."


def test_tokenizer_round_trips_shakespeare_in_sorted_order():
    text = data.shakespeare()
    tok = data.CharTokenizer(text)
    assert tok.chars == sorted(set(text))
    ids = tok.encode(text)
    assert ids.shape == (len(text),) and tok.decode(ids) == text
    assert ids[:5].tolist() == [sorted(set(text)).index(c) for c in "First"]


def test_tokenizer_refuses_what_it_cannot_number():
    tok = data.CharTokenizer("abc", boundary=".")
    with pytest.raises(ValueError, match=r"CharTokenizer.encode: the character 'z' at position 2 is not in"):
        tok.encode("abz")
    with pytest.raises(ValueError, match=r"id 4 at position 1 is outside 0..3"):
        tok.decode([1, 4])
    with pytest.raises(TypeError, match="ids must be whole numbers"):
        tok.decode([1.5])
    with pytest.raises(ValueError, match="occurs in the text"):
        data.CharTokenizer("a.b", boundary=".")
    with pytest.raises(TypeError, match=r"''.join\(words\)"):
        data.CharTokenizer(["ab", "c"])
    with pytest.raises(ValueError, match="empty"):
        data.CharTokenizer("")


def test_next_char_examples_are_makemores_build_dataset():
    words = ["emma", "ava", "x"]
    tok = data.CharTokenizer("".join(words), boundary=".")
    X, Y = data.next_char_examples(words, 3, tok)
    # makemore's loop, written out: the context starts as padding and shifts in each character
    xs, ys = [], []
    for w in words:
        context = [0, 0, 0]
        for ch in w + ".":
            xs.append(context)
            ys.append(tok.stoi[ch])
            context = context[1:] + [tok.stoi[ch]]
    assert X.dtype == Y.dtype == np.int64
    np.testing.assert_array_equal(X, np.array(xs))
    np.testing.assert_array_equal(Y, np.array(ys))
    with pytest.raises(TypeError, match="with a boundary"):
        data.next_char_examples(words, 3, data.CharTokenizer("abc"))


def test_split_words_is_80_10_10_reproducible_and_whole():
    words = data.names()
    train, dev, test = data.split_words(words, seed=0)
    n = len(words)
    assert (len(train), len(dev), len(test)) == (int(0.8 * n), int(0.9 * n) - int(0.8 * n), n - int(0.9 * n))
    assert sorted(train + dev + test) == sorted(words)
    assert data.split_words(words, seed=0)[0] == train and data.split_words(words, seed=1)[0] != train
    with pytest.raises(ValueError, match="add up to 1"):
        data.split_words(words, (0.8, 0.1))


def test_text_batch_gives_windows_and_their_next_characters():
    ids = np.arange(100) * 3
    x, y = data.text_batch(ids, 4, 8, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 8) and x.dtype == np.int64
    np.testing.assert_array_equal(np.diff(x, axis=1), 3)  # consecutive ids of the text
    np.testing.assert_array_equal(y, x + 3)  # each position's next one
    again = data.text_batch(ids, 4, 8, np.random.default_rng(0))[0]
    np.testing.assert_array_equal(x, again)
    assert x.max() <= 99 * 3 and y.max() <= 99 * 3
    with pytest.raises(ValueError, match="no window of 100 ids"):
        data.text_batch(ids, 4, 100, np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy Generator"):
        data.text_batch(ids, 4, 8, 0)
