"""Course topic: beyond 1-of-N encoding, word vectors (deck 003, "1-of-N encoding": apple =
[1 0 0 0 0], ...; "how to represent each word as a vector?").

A 1-of-N vector says nothing about meaning: every two words are equally far apart. Skip-gram
(Mikolov et al. 2013) learns a short dense vector per word by predicting the words around it:
Embedding (the 1-of-N vector times a matrix, i.e. one row of it) -> Dense(softmax over the
vocabulary) for each (word, neighbour) pair within a window. Words used in the same contexts get
similar rows. The corpus is generated from templates with clear word classes (animals, foods,
colours, people who are male or female and adults, children or royals), so the result can be
checked: each word's nearest neighbours by cosine similarity are printed, and the analogy
king - man + woman (which should land on queen: the royal, female person).

    python examples/word_vectors.py [--epochs 8] [--dim 16] [--window 2]
"""
import argparse
import itertools
import sys

import numpy as np

import pydl
from pydl.layers import Dense, Embedding, Flatten
from pydl.models import Sequential

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "rabbit"]
FOODS = ["bread", "rice", "apple", "cheese", "soup", "cake"]
COLOURS = ["red", "green", "blue", "yellow", "black", "white"]
PEOPLE = {"man": ("m", "adult"), "woman": ("f", "adult"), "king": ("m", "royal"), "queen": ("f", "royal"),
          "boy": ("m", "child"), "girl": ("f", "child")}
PRONOUN = {"m": ("he", "his"), "f": ("she", "her")}
ROLE = {"adult": ["works at the office", "drives a car", "pays the bills"],
        "royal": ["rules the kingdom", "wears a crown", "lives in a palace"],
        "child": ["goes to school", "plays with toys", "does homework"]}
CLASSES = {"animal": ANIMALS, "food": FOODS, "colour": COLOURS, "person": list(PEOPLE)}
QUERIES = ["cat", "bread", "blue", "king", "girl"]


def corpus():
    """Sentences (lists of words) from the templates."""
    out = []
    for a, f in itertools.product(ANIMALS, FOODS):
        out.append(f"the {a} eats the {f}")
    for a, c in itertools.product(ANIMALS, COLOURS):
        out.append(f"a {c} {a} sleeps in the barn")
        out.append(f"the {a} is {c}")
    for f, c in itertools.product(FOODS, COLOURS):
        out.append(f"the {c} {f} tastes good")
    for p, (g, role) in PEOPLE.items():
        he, his = PRONOUN[g]
        for phrase in ROLE[role]:
            out.append(f"the {p} {phrase}")
            out.append(f"{he} is a {p} who {phrase}")
        for f in FOODS:
            out.append(f"the {p} cooks {his} {f}")
        for c in COLOURS:
            out.append(f"{he} is the {p} in {c}")
    return [s.split() for s in out]


def skipgram_pairs(sentences, ids, window):
    centre, context = [], []
    for words in sentences:
        for i, w in enumerate(words):
            for j in range(max(0, i - window), min(len(words), i + window + 1)):
                if j != i:
                    centre.append(ids[w])
                    context.append(ids[words[j]])
    return np.array(centre, dtype=np.int64)[:, None], np.array(context, dtype=np.int64)


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def nearest(vectors, vocab, query_vec, exclude=(), k=3):
    sims = unit(vectors) @ unit(query_vec)
    order = [i for i in np.argsort(-sims) if vocab[i] not in exclude]
    return [(vocab[i], float(sims[i])) for i in order[:k]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pydl.manual_seed(args.seed)

    sentences = corpus()
    vocab = sorted({w for s in sentences for w in s})
    ids = {w: i for i, w in enumerate(vocab)}
    x, y = skipgram_pairs(sentences, ids, args.window)
    print(f"{len(sentences)} sentences, {len(vocab)} words, {len(x)} (word, neighbour) pairs within "
          f"{args.window} words; 1-of-N vectors of length {len(vocab)} -> word vectors of length {args.dim}")

    model = Sequential([Embedding(len(vocab), args.dim, input_shape=(1,)), Flatten(),
                        Dense(len(vocab), activation="softmax")])
    model.compile(optimizer=pydl.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=args.epochs, verbose=2)
    vectors = model.layers[0].get_weights()[0].astype(np.float64)

    cls = {w: c for c, words in CLASSES.items() for w in words}
    print("\n| word | class | nearest neighbours (cosine) |")
    print("|---|---|---|")
    for q in QUERIES:
        near = nearest(vectors, vocab, vectors[ids[q]], exclude=(q,))
        cells = ", ".join(f"{w} ({cls.get(w, '-')}, {s:.2f})" for w, s in near)
        print(f"| {q} | {cls[q]} | {cells} |")

    # neighbours' classes over every class word: the fraction whose nearest word is of its class
    hits = [cls.get(nearest(vectors, vocab, vectors[ids[w]], exclude=(w,), k=1)[0][0]) == c
            for w, c in cls.items()]
    print(f"\nnearest neighbour in the same class: {sum(hits)}/{len(hits)} class words")

    query = vectors[ids["king"]] - vectors[ids["man"]] + vectors[ids["woman"]]
    answer = nearest(vectors, vocab, query, exclude=("king", "man", "woman"), k=3)
    print("analogy king - man + woman = " + ", ".join(f"{w} ({s:.2f})" for w, s in answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
