"""Course topic: many to one, sentiment analysis (deck 003, "More applications: Many to one":
"看了這部電影覺得很高興" positive, "這部電影太糟了" negative, "這部電影很棒" positive).

A sequence of tokens in, one probability out: Embedding -> LSTM (its last state reads the whole
sentence) -> Dense(1, sigmoid). The corpus is written for this example from small templates, in
English (words as tokens) and in Chinese (characters as tokens, since Chinese puts no spaces
between words): a subject, an intensifier and a positive or negative word, some negated ("not
good" is negative, "不難看" positive), so the order of the tokens matters and a bag of words is not
enough. The sentences are shuffled and split; the held-out accuracy is printed, then the slide's
three sentences (never seen in training) and a few new ones are classified. The corpus is small
and regular, so the held-out sentences are easy; a sentence that leaves the templates fools it
(measured: "the acting was not boring at all", whose last words are out of the vocabulary, comes
out negative).

    python examples/sentiment_rnn.py [--epochs 12] [--units 32] [--cell lstm|gru]
"""
import argparse
import itertools
import sys
import unicodedata

import numpy as np

import pydl
from pydl.layers import GRU, LSTM, Dense, Embedding
from pydl.models import Sequential
from pydl.utils import TextVectorization, pad_sequences

EN_SUBJECTS = ["this movie", "the film", "the story", "the acting", "the music", "this book", "the ending",
               "the food here", "this restaurant", "the service"]
EN_ADVERBS = ["", "very", "really", "so", "quite", "truly"]
EN_POSITIVE = ["good", "great", "wonderful", "fun", "moving", "excellent", "lovely", "enjoyable"]
EN_NEGATIVE = ["bad", "terrible", "boring", "awful", "dull", "disappointing", "poor", "horrible"]

ZH_SUBJECTS = ["這部電影", "這本書", "這個故事", "這家餐廳", "演員的表演", "這首歌", "結局"]
ZH_ADVERBS = ["很", "非常", "真的", "太", "十分"]
ZH_POSITIVE = ["棒", "好看", "精彩", "感人", "有趣", "好", "出色"]
ZH_NEGATIVE = ["糟", "難看", "無聊", "差", "爛", "失望", "可怕"]
ZH_FEELINGS_POS = ["高興", "開心", "感動", "快樂"]
ZH_FEELINGS_NEG = ["難過", "失望", "生氣", "無聊"]

# The slide's sentences (and a few new ones): kept out of the training corpus.
SLIDE = [("看了這部電影覺得很高興", 1), ("這部電影太糟了", 0), ("這部電影很棒", 1)]
NEW = [("the acting was not boring at all", 1), ("honestly the music was really awful", 0),
       ("this book is wonderful", 1), ("這首歌不好聽", 0), ("看了這本書覺得很開心", 1)]


def corpus():
    """(text, label) pairs from the templates: 1 positive, 0 negative."""
    out = []
    for s, a, w in itertools.product(EN_SUBJECTS, EN_ADVERBS, EN_POSITIVE + EN_NEGATIVE):
        pos = w in EN_POSITIVE
        verb = "is" if s.startswith("this") else "was"
        adv = f"{a} " if a else ""
        out.append((f"{s} {verb} {adv}{w}", int(pos)))
        out.append((f"{s} {verb} not {adv}{w}", int(not pos)))  # negation flips the label
    for s, a, w in itertools.product(ZH_SUBJECTS, ZH_ADVERBS, ZH_POSITIVE + ZH_NEGATIVE):
        pos = w in ZH_POSITIVE
        out.append((f"{s}{a}{w}" + ("了" if a == "太" else ""), int(pos)))
        out.append((f"{s}不{w}", int(not pos)))
    for s, w in itertools.product(ZH_SUBJECTS, ZH_FEELINGS_POS + ZH_FEELINGS_NEG):
        out.append((f"看了{s}覺得很{w}", int(w in ZH_FEELINGS_POS)))
    held = {t for t, _ in SLIDE + NEW}
    return sorted({(t, y) for t, y in out if t not in held})


def split_tokens(text):
    """English words split at white space; each Chinese character a token of its own."""
    tokens = []
    for word in text.split():
        run = ""
        for ch in word:
            if unicodedata.name(ch, "").startswith("CJK"):
                if run:
                    tokens.append(run)
                    run = ""
                tokens.append(ch)
            else:
                run += ch
        if run:
            tokens.append(run)
    return tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pydl.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    data = corpus()
    rng.shuffle(data)
    texts = [t for t, _ in data]
    labels = np.array([y for _, y in data], dtype=np.float32)
    n_test = len(data) // 5
    vec = TextVectorization(split=split_tokens)
    vec.adapt(texts[n_test:])  # the vocabulary of the training sentences only
    maxlen = 12

    def encode(ts):
        # TextVectorization pads at the end; re-pad at the front ('pre'), Keras's habit. With
        # Embedding(mask_zero=True) below the LSTM skips the pads, so either end would do.
        rows = [[i for i in r if i != 0] for r in vec(ts)]
        return pad_sequences(rows, maxlen=maxlen, padding="pre", truncating="pre")

    x = encode(texts)
    x_te, y_te, x_tr, y_tr = x[:n_test], labels[:n_test], x[n_test:], labels[n_test:]
    n_en = sum(1 for t in texts if t.isascii())
    print(f"{len(data)} sentences ({n_en} English, {len(data) - n_en} Chinese), {len(x_tr)} for training, "
          f"{len(x_te)} held out; vocabulary {vec.vocabulary_size()} tokens (words and characters)")

    cell = LSTM if args.cell == "lstm" else GRU
    model = Sequential([
        Embedding(vec.vocabulary_size(), 16, mask_zero=True, input_shape=(maxlen,)),  # id 0 = padding
        cell(args.units),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(5e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, batch_size=32, epochs=args.epochs, verbose=2)
    p_te = model.predict(x_te, verbose=0)[:, 0]
    acc = float(np.mean((p_te > 0.5) == (y_te > 0.5)))
    print(f"\nheld-out accuracy: {acc:.3f} on {len(x_te)} sentences (chance 0.5)")

    print("\n| sentence | truth | P(positive) | predicted |")
    print("|---|---|---|---|")
    name = {1: "positive", 0: "negative"}
    for t, y in SLIDE + NEW:
        p = float(model.predict(encode([t]), verbose=0)[0, 0])
        print(f"| {t} | {name[y]} | {p:.3f} | {name[int(p > 0.5)]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
