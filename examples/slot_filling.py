"""Course topic: slot filling with a network that has memory (deck 003, "Example application:
slot filling", "Problem?", "the network needs memory!", bidirectional RNN).

The slide: "arrive Taipei on November 2nd" is tagged other dest other time time, but in "leave
Taipei on November 2nd" the same word Taipei is the place of departure. A feed-forward network
that sees one word at a time (Embedding -> TimeDistributed(Dense) -> TimeDistributed(Dense
softmax)) gives every "Taipei" the same output, so it cannot tell the two apart; a bidirectional
LSTM tagger (Embedding -> Bidirectional(LSTM, return_sequences=True) -> TimeDistributed(Dense
softmax)) reads the words around it. Both are trained on sentences generated from templates
(arrive/leave, cities, dates); their token accuracy is printed on held-out sentences, on the
city words alone, and on the two slide sentences (held out of training).

    python examples/slot_filling.py [--epochs 15] [--units 32]
"""
import argparse
import itertools
import sys

import numpy as np

import pydl
from pydl.layers import LSTM, Bidirectional, Dense, Embedding, TimeDistributed
from pydl.losses import SparseCategoricalCrossentropy
from pydl.models import Sequential
from pydl.utils import TextVectorization, pad_sequences

TAGS = ["<pad>", "other", "dest", "depart", "time"]  # "depart": place of departure (0 pads, ignored)
CITIES = ["taipei", "tokyo", "paris", "london", "boston", "seoul", "taichung", "kaohsiung", "osaka", "berlin"]
MONTHS = ["january", "march", "may", "july", "september", "november"]
DAYS = ["1st", "2nd", "3rd", "5th", "12th", "21st", "30th"]
ARRIVE = ["arrive", "arrive in", "arriving in", "i will arrive in", "i want to arrive in", "get to", "reach"]
LEAVE = ["leave", "leaving", "depart from", "i will leave", "i want to leave", "i am leaving", "go away from"]
SLIDE = ["arrive taipei on november 2nd", "leave taipei on november 2nd"]


def sentences():
    """(words, tags) pairs: a verb phrase, a city, a date (sometimes a second leg)."""
    out = []
    for verb, city, month, day in itertools.product(ARRIVE + LEAVE, CITIES, MONTHS, DAYS):
        slot = "dest" if verb in ARRIVE else "depart"
        words = verb.split() + [city, "on", month, day]
        tags = ["other"] * len(verb.split()) + [slot, "other", "time", "time"]
        out.append((words, tags))
    for a, b, day in itertools.product(CITIES, CITIES, DAYS):  # two legs: "leave A and arrive in B on may 3rd"
        if a != b:
            out.append(("leave {} and arrive in {} on may {}".format(a, b, day).split(),
                        ["other", "depart", "other", "other", "other", "dest", "other", "time", "time"]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--train", type=int, default=2000, help="training sentences (the rest: a held-out sample)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pydl.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    data = [d for d in sentences() if " ".join(d[0]) not in SLIDE]
    order = rng.permutation(len(data))
    train = [data[i] for i in order[:args.train]]
    test = [data[i] for i in order[args.train:args.train + 1000]]
    slide = [(s.split(), ["other", t, "other", "time", "time"]) for s, t in zip(SLIDE, ["dest", "depart"])]

    vec = TextVectorization(standardize=None)
    vec.adapt([" ".join(w) for w, _ in train])
    maxlen = max(len(w) for w, _ in data)
    tag_id = {t: i for i, t in enumerate(TAGS)}

    def encode(pairs):
        # post padding; Embedding(mask_zero=True) masks the padded steps, so the LSTMs skip them
        # and the loss and accuracy leave them out (their tag 0 is also ignore_class).
        x = pad_sequences([ids[ids != 0] for ids in vec([" ".join(w) for w, _ in pairs])], maxlen=maxlen,
                          padding="post")
        y = pad_sequences([[tag_id[t] for t in tags] for _, tags in pairs], maxlen=maxlen, padding="post")
        return x, y

    x_tr, y_tr = encode(train)
    x_te, y_te = encode(test)
    x_sl, y_sl = encode(slide)
    city_ids = {int(i) for i in vec(CITIES)[:, 0]}
    print(f"{len(data)} template sentences, {len(train)} for training, {len(test)} held out; "
          f"{vec.vocabulary_size()} words, tags {TAGS[1:]}")

    def feed_forward():  # one word at a time: no memory
        return Sequential([Embedding(vec.vocabulary_size(), 16, mask_zero=True, input_shape=(maxlen,)),
                           TimeDistributed(Dense(args.units, activation="relu")),
                           TimeDistributed(Dense(len(TAGS), activation="softmax"))])

    def bidirectional():
        return Sequential([Embedding(vec.vocabulary_size(), 16, mask_zero=True, input_shape=(maxlen,)),
                           Bidirectional(LSTM(args.units, return_sequences=True)),
                           TimeDistributed(Dense(len(TAGS), activation="softmax"))])

    def accuracy(pred, y, only=None, x=None):
        keep = y != 0
        if only is not None:
            keep &= np.isin(x, list(only))
        return float(np.mean(pred[keep] == y[keep]))

    rows, tagged = [], {}
    for name, build in (("feed-forward (one word at a time)", feed_forward),
                        ("bidirectional LSTM", bidirectional)):
        pydl.manual_seed(args.seed)
        model = build()
        model.compile(optimizer=pydl.optimizers.Adam(1e-2), loss=SparseCategoricalCrossentropy(ignore_class=0))
        print(f"\n{name}:")
        model.fit(x_tr, y_tr, batch_size=32, epochs=args.epochs, verbose=2)
        p_te = model.predict(x_te, verbose=0).argmax(-1)
        p_sl = model.predict(x_sl, verbose=0).argmax(-1)
        rows.append((name, accuracy(p_te, y_te), accuracy(p_te, y_te, city_ids, x_te), accuracy(p_sl, y_sl)))
        tagged[name] = p_sl

    print("\n| tagger | held-out token accuracy | held-out city words | the two slide sentences |")
    print("|---|---|---|---|")
    for name, acc, city, sl in rows:
        print(f"| {name} | {acc:.3f} | {city:.3f} | {sl:.3f} |")
    print()
    for i, s in enumerate(SLIDE):
        print(f"{s}:")
        print(f"    {'truth:':20} {' '.join(slide[i][1])}")
        for name, p in tagged.items():
            print(f"    {name.split(' (')[0] + ':':20} {' '.join(TAGS[t] for t in p[i][:len(s.split())])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
