"""Text to token ids and back, with Keras's ``TextVectorization`` conventions (issue 9).

    vec = TextVectorization(output_sequence_length=6)
    vec.adapt(["arrive Taipei on November 2nd", "leave Taipei on November 2nd"])
    vec(["arrive Taipei"])        # array([[2, 3, 0, 0, 0, 0]]): ids by frequency, 0 pads
    vec.get_vocabulary()          # ['', '[UNK]', 'taipei', 'on', ...]

Ids: 0 is padding (''), 1 the out-of-vocabulary token '[UNK]', then the vocabulary from the
most frequent token down (ties in the order first seen). ``split='character'`` makes one token
per character, the way to tokenise Chinese text (no spaces between words) or to build a
character-level model; ``split='whitespace'`` splits on runs of white space.
"""
import collections
import re
import string
import unicodedata

import numpy as np

PAD, OOV = "", "[UNK]"
_PUNCT = re.compile("[%s]" % re.escape(string.punctuation))


def _standardize(text, mode):
    if mode is None:
        return text
    if mode == "lower":
        return text.lower()
    if mode == "lower_and_strip_punctuation":
        text = text.lower()
        text = _PUNCT.sub("", text)
        # also the wide (CJK) punctuation: Unicode category P*
        return "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    if mode == "strip_punctuation":
        return "".join(ch for ch in _PUNCT.sub("", text) if not unicodedata.category(ch).startswith("P"))
    if callable(mode):
        return mode(text)
    raise ValueError(f"TextVectorization: standardize must be None, 'lower', 'strip_punctuation', "
                     f"'lower_and_strip_punctuation' or a function, got {mode!r}")


def _split(text, mode):
    if mode is None:
        return [text]
    if mode == "whitespace":
        return text.split()
    if mode == "character":
        return [ch for ch in text if not ch.isspace()]
    if callable(mode):
        return list(mode(text))
    raise ValueError(f"TextVectorization: split must be None, 'whitespace', 'character' or a function, got {mode!r}")


class TextVectorization:
    """Standardise, split, map to ids (Keras 3's ``TextVectorization`` with
    ``output_mode='int'``), as a NumPy utility: ``adapt(texts)`` builds the vocabulary,
    ``vec(texts)`` gives int64 ids, ``decode(ids)`` turns ids back into tokens.

    max_tokens: the vocabulary's size including padding and '[UNK]' (None: no limit).
    output_sequence_length: pad with 0 or cut every row to this length (None: the longest row
    of the call, padded at the end as Keras).
    vocabulary: a list of tokens to use instead of ``adapt`` (without '' and '[UNK]').
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace",
                 output_sequence_length=None, vocabulary=None):
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                       or max_tokens < 3):
            raise ValueError(f"TextVectorization: max_tokens must be None or an int >= 3 (padding, '[UNK]' and one "
                             f"token), got {max_tokens!r}")
        if output_sequence_length is not None and (isinstance(output_sequence_length, bool)
                                                   or not isinstance(output_sequence_length, int)
                                                   or output_sequence_length < 1):
            raise ValueError(f"TextVectorization: output_sequence_length must be None or a positive int, got "
                             f"{output_sequence_length!r}")
        _standardize("", standardize)
        _split("", split)
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.output_sequence_length = output_sequence_length
        self._vocab = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    def tokenize(self, text):
        """One text -> its list of tokens (standardised, split)."""
        if not isinstance(text, str):
            raise TypeError(f"TextVectorization: expected a str, got {type(text).__name__} {text!r}")
        return _split(_standardize(text, self.standardize), self.split)

    def _texts(self, texts, what):
        if isinstance(texts, str):
            raise TypeError(f"TextVectorization.{what}: give a list of texts, not one str (wrap it: [text])")
        texts = list(texts.tolist() if isinstance(texts, np.ndarray) else texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"TextVectorization.{what}: text {i} is {type(t).__name__} {t!r}, not a str")
        return texts

    def adapt(self, texts):
        """Build the vocabulary from ``texts``: tokens by descending count, ties in first-seen order."""
        counts = collections.Counter()
        for t in self._texts(texts, "adapt"):
            counts.update(self.tokenize(t))
        counts.pop(PAD, None)
        counts.pop(OOV, None)
        ranked = sorted(counts, key=lambda tok: -counts[tok])  # stable: first seen wins a tie
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - 2]
        self.set_vocabulary(ranked)
        return self

    def set_vocabulary(self, vocabulary):
        tokens = list(vocabulary)
        if tokens[:2] == [PAD, OOV]:
            tokens = tokens[2:]
        bad = [t for t in tokens if not isinstance(t, str) or t in (PAD, OOV)]
        if bad or len(set(tokens)) != len(tokens):
            raise ValueError(f"TextVectorization: the vocabulary must be distinct tokens other than '' and '[UNK]', "
                             f"got {bad or [t for t, c in collections.Counter(tokens).items() if c > 1]}")
        self._vocab = [PAD, OOV] + tokens
        self._ids = {t: i for i, t in enumerate(self._vocab)}

    def get_vocabulary(self):
        self._need_vocab("get_vocabulary")
        return list(self._vocab)

    def vocabulary_size(self):
        self._need_vocab("vocabulary_size")
        return len(self._vocab)

    def _need_vocab(self, what):
        if self._vocab is None:
            raise ValueError(f"TextVectorization.{what}: no vocabulary yet: call adapt(texts) or pass vocabulary=")

    def __call__(self, texts):
        """Texts -> an int64 array (len(texts), length) of ids, 0-padded at the end."""
        self._need_vocab("__call__")
        rows = [[self._ids.get(tok, 1) for tok in self.tokenize(t)] for t in self._texts(texts, "__call__")]
        length = self.output_sequence_length or max((len(r) for r in rows), default=0)
        out = np.zeros((len(rows), length), dtype=np.int64)
        for i, r in enumerate(rows):
            r = r[:length]
            out[i, :len(r)] = r
        return out

    def decode(self, ids, skip_padding=True):
        """Ids (one row or a batch) back to tokens; padding dropped unless ``skip_padding=False``."""
        self._need_vocab("decode")
        a = np.asarray(ids)
        if a.dtype.kind not in "iu":
            raise TypeError(f"TextVectorization.decode: ids must be integers, got dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() >= len(self._vocab)):
            raise ValueError(f"TextVectorization.decode: ids must be in [0, {len(self._vocab)}), got "
                             f"{a.min()}..{a.max()}")
        if a.ndim == 1:
            return [self._vocab[i] for i in a if not (skip_padding and i == 0)]
        return [self.decode(row, skip_padding) for row in a]
