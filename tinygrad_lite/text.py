"""Text for language models: the two shipped corpora, a character tokenizer, and the examples every makemore and
nanoGPT lesson builds by hand (next-character examples from words, random windows of a long text, a seeded split).

Scope: numpy only; `tl.data` re-exports every public name here. Nothing is downloaded: the files are inside the
package (their source and licence: tinygrad_lite/datasets/TEXT.md).
"""

from __future__ import annotations

import gzip
import importlib.resources
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _checks

__all__ = ["names", "shakespeare", "CharTokenizer", "split_words", "next_char_examples", "text_batch"]


def _read(file: str) -> str:
    shipped = importlib.resources.files("tinygrad_lite").joinpath("datasets", file)
    with shipped.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
        return text.read()


def names() -> list[str]:
    """The 32,033 lowercase first names of makemore (US Social Security records of 2018), in the file's order."""
    return _read("names.txt.gz").split("\n")


def shakespeare() -> str:
    """Tiny Shakespeare: 1,115,394 characters of the plays (65 distinct characters), as one str."""
    return _read("tinyshakespeare.txt.gz")


class CharTokenizer:
    """Characters to whole numbers and back: each distinct character of `text` gets an id, in sorted order.

    boundary: a character that marks where a word starts and ends (makemore's "."); it gets id 0 and the text's
    characters 1, 2, ... (for names: "." is 0, "a" 1, ..., "z" 26, so vocab_size is 27). It must not occur in text.

        tok = tl.data.CharTokenizer("".join(words), boundary=".")
        tok.encode("emma")          # array([ 5, 13, 13,  1])
        tok.decode([5, 13, 13, 1])  # 'emma'
    """

    def __init__(self, text: str, boundary: str | None = None):
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer: text must be a str, got {_checks.describe(text)} (for a list of words, "
                            "give ''.join(words))")
        if boundary is not None and (not isinstance(boundary, str) or len(boundary) != 1):
            raise ValueError(f"CharTokenizer: boundary must be one character such as '.', got {boundary!r}")
        chars = sorted(set(text))
        if boundary is not None:
            if boundary in chars:
                raise ValueError(f"CharTokenizer: the boundary {boundary!r} occurs in the text, so it could not mark "
                                 "word ends; choose a character the text does not have")
            chars = [boundary, *chars]
        if not chars:
            raise ValueError("CharTokenizer: the text is empty, so there is no character to give an id")
        self.chars, self.boundary = chars, boundary
        self.stoi = {c: i for i, c in enumerate(chars)}
        self._codes = np.array([ord(c) for c in chars], dtype=np.int64)  # code points by id
        self._sorted = np.argsort(self._codes)

    @property
    def vocab_size(self) -> int:
        """The number of distinct ids (the boundary included)."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of text's characters (int64, one per character). A character outside the vocabulary is a
        ValueError naming it and where it is."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode: give a str, got {_checks.describe(text)}")
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        at = np.minimum(np.searchsorted(self._codes[self._sorted], codes), len(self.chars) - 1)
        ids = self._sorted[at]
        bad = np.flatnonzero(self._codes[ids] != codes)
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"CharTokenizer.encode: the character {text[i]!r} at position {i} is not in the "
                             f"vocabulary of {self.vocab_size} characters ({''.join(self.chars)!r})")
        return ids.astype(np.int64)

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids (a list or an integer array)."""
        try:
            a = np.asarray(ids)
        except ValueError:  # ragged lists
            raise TypeError(f"CharTokenizer.decode: ids must be one sequence of whole numbers (a list or a 1-D "
                            f"array; decode each row of a batch on its own), got {_checks.describe(ids)}") from None
        if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
            raise TypeError(f"CharTokenizer.decode: ids must be whole numbers, got {_checks.describe(ids)}")
        a = a.astype(np.int64).ravel()
        bad = np.flatnonzero((a < 0) | (a >= self.vocab_size))
        if bad.size:
            raise ValueError(f"CharTokenizer.decode: id {int(a[bad[0]])} at position {int(bad[0])} is outside "
                             f"0..{self.vocab_size - 1}")
        return "".join(self.chars[i] for i in a.tolist())

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, boundary={self.boundary!r})"


def split_words(words: Sequence[str], fractions: tuple[float, ...] = (0.8, 0.1, 0.1),
                seed: int | None = 0) -> list[list[str]]:
    """The words shuffled with `seed` and cut into parts of those fractions (makemore's 80/10/10 train, dev and
    test split: the first int(0.8 n) words, the next int(0.9 n) - int(0.8 n), the rest)."""
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise TypeError(f"split_words: words must be a list of str, got {_checks.describe(words)}")
    if not isinstance(fractions, (tuple, list)) or not fractions or \
            any(isinstance(f, bool) or not isinstance(f, (int, float)) or not f > 0 for f in fractions) \
            or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split_words: fractions must be positive and add up to 1, got {fractions!r}")
    order = np.random.default_rng(_checks.seed("split_words", seed)).permutation(len(words))
    cuts = [0, *(int(c * len(words) + 1e-9) for c in np.cumsum(fractions)[:-1]), len(words)]
    return [[words[i] for i in order[a:b]] for a, b in zip(cuts, cuts[1:])]


def next_char_examples(words: Sequence[str], block_size: int,
                       tokenizer: CharTokenizer) -> tuple[np.ndarray, np.ndarray]:
    """makemore's examples: for each word and each of its characters and the end, the `block_size` ids before it
    (the boundary's id 0 pads the start) and its id. Returns X int64 (n, block_size) and Y int64 (n,), where n is
    the number of characters plus one per word ("emma" with block_size 3: ... -> e, ..e -> m, .em -> m,
    emm -> a, mma -> .)."""
    block = _checks.whole("next_char_examples", "block_size", block_size)
    if not isinstance(tokenizer, CharTokenizer) or tokenizer.boundary is None:
        raise TypeError("next_char_examples: tokenizer must be a CharTokenizer with a boundary, such as "
                        "CharTokenizer(''.join(words), boundary='.')")
    if isinstance(words, str) or not isinstance(words, Sequence) or not all(isinstance(w, str) for w in words):
        raise TypeError(f"next_char_examples: words must be a list of str (give [word] for one word), got "
                        f"{_checks.describe(words)}")
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    if not len(lengths):
        return np.zeros((0, block), np.int64), np.zeros(0, np.int64)
    # One flat array: each word as `block` boundaries, its ids and a closing boundary; then every target's
    # window is the `block` ids before it, which never reach into the word before (the padding is in between).
    starts = np.cumsum(block + lengths + 1) - (block + lengths + 1) + block  # where each word's first id goes
    flat = np.zeros(int((block + lengths + 1).sum()), np.int64)
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    flat[np.repeat(starts, lengths) + within] = tokenizer.encode("".join(words))
    targets = np.repeat(starts, lengths + 1) + (np.arange((lengths + 1).sum())
                                                 - np.repeat(np.cumsum(lengths + 1) - lengths - 1, lengths + 1))
    X = np.lib.stride_tricks.sliding_window_view(flat, block)[targets - block]
    return np.ascontiguousarray(X), flat[targets]


def text_batch(ids: Any, batch_size: int, block_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """nanoGPT's batch: `batch_size` windows of `block_size` ids starting at random places in a long id array,
    and the same windows one id later (each position's next character). Both int64 (batch_size, block_size)."""
    ids = _checks.numeric("text_batch", "ids", ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"text_batch: ids must be a 1-d array of whole numbers (tokenizer.encode(text)), got "
                        f"{_checks.describe(ids)}")
    batch = _checks.whole("text_batch", "batch_size", batch_size)
    block = _checks.whole("text_batch", "block_size", block_size)
    if len(ids) <= block:
        raise ValueError(f"text_batch: a text of {len(ids)} ids has no window of {block} ids and a next one; give "
                         "a longer text or a smaller block_size")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"text_batch: rng must be a numpy Generator (np.random.default_rng(seed)), got "
                        f"{_checks.describe(rng)}")
    starts = rng.integers(0, len(ids) - block, size=batch)
    rows = starts[:, None] + np.arange(block)  # (batch, block)
    return ids[rows].astype(np.int64), ids[rows + 1].astype(np.int64)
