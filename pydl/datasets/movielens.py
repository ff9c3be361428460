"""MovieLens ratings (GroupLens) for the recommender autoencoder of deck 002, and a generated
stand-in with the same shape.

- ``load_ratings(path)``: ``(users, items, ratings)`` arrays from ml-100k's ``u.data`` (tab
  separated ``user item rating timestamp``) or the newer ``ratings.csv`` (``userId,movieId,
  rating,timestamp`` with a header). ``path`` is the file or a folder holding either.
- ``rating_matrix(users, items, ratings)``: the dense user-by-item matrix, 0 where not rated,
  with the user and item ids of its rows and columns.
- ``split_ratings(...)``: hold out a fraction of each user's ratings for testing.
- ``synthetic_ratings(...)``: a low-rank rating matrix's observed entries, for running the
  example without MovieLens (which is not downloaded: GroupLens asks users to fetch it
  themselves, https://grouplens.org/datasets/movielens/).
"""
import csv
import os
from pathlib import Path

import numpy as np


def _find(path):
    p = Path(path)
    if p.is_dir():
        for name in ("u.data", "ratings.csv"):
            hits = sorted(p.rglob(name))
            if hits:
                return hits[0]
        raise FileNotFoundError(f"movielens: no u.data or ratings.csv under {p}")
    if not p.exists():
        raise FileNotFoundError(f"movielens: {p} does not exist")
    return p


def default_path():
    """``$PYDL_DATA/movielens`` or ``~/.pydl/datasets/movielens``, whichever exists, else None."""
    for root in (os.environ.get("PYDL_DATA"), Path.home() / ".pydl" / "datasets"):
        if root and (Path(root) / "movielens").is_dir():
            return Path(root) / "movielens"
    return None


def load_ratings(path):
    """``(users int64, items int64, ratings float32)``, one entry per rating, from u.data or ratings.csv."""
    f = _find(path)
    users, items, ratings = [], [], []
    with open(f, newline="", encoding="utf-8") as fh:
        if f.name.endswith(".csv"):
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:3]] != ["userId", "movieId", "rating"]:
                raise ValueError(f"movielens: {f} should start with the header userId,movieId,rating,..., got "
                                 f"{header}")
            rows = reader
        else:
            rows = (line.split("\t") for line in fh if line.strip())
        for n, row in enumerate(rows, start=2 if f.name.endswith(".csv") else 1):
            if len(row) < 3:
                raise ValueError(f"movielens: {f} line {n}: expected user, item, rating, got {row!r}")
            try:
                u, i, r = int(row[0]), int(row[1]), float(row[2])
            except ValueError:
                raise ValueError(f"movielens: {f} line {n}: not a user id, item id and rating: {row[:3]!r}") from None
            if not np.isfinite(r):
                raise ValueError(f"movielens: {f} line {n}: rating {row[2]!r} is not a finite number")
            users.append(u)
            items.append(i)
            ratings.append(r)
    if not ratings:
        raise ValueError(f"movielens: {f} holds no ratings")
    return np.array(users, np.int64), np.array(items, np.int64), np.array(ratings, np.float32)


def rating_matrix(users, items, ratings):
    """``(R, user_ids, item_ids)``: R[u, i] is user_ids[u]'s rating of item_ids[i], 0 where there is
    none (ratings are 0.5-5, so 0 is free to mean "not rated"). A repeated (user, item) raises."""
    users, items = np.asarray(users), np.asarray(items)
    ratings = np.asarray(ratings, dtype=np.float32)
    if not (users.shape == items.shape == ratings.shape) or users.ndim != 1:
        raise ValueError(f"rating_matrix: users, items and ratings must be 1-D of one length, got shapes "
                         f"{users.shape}, {items.shape}, {ratings.shape}")
    if (ratings <= 0).any():
        raise ValueError("rating_matrix: ratings must be > 0 (0 marks a missing rating)")
    user_ids, u = np.unique(users, return_inverse=True)
    item_ids, i = np.unique(items, return_inverse=True)
    key = u.astype(np.int64) * len(item_ids) + i
    if len(np.unique(key)) != len(key):
        raise ValueError("rating_matrix: some user rated the same item twice")
    r = np.zeros((len(user_ids), len(item_ids)), np.float32)
    r[u, i] = ratings
    return r, user_ids, item_ids


def split_ratings(r, test_fraction=0.1, seed=0):
    """``(train, test)`` matrices of R's shape: a ``test_fraction`` of each user's ratings (at least
    one when the user has two or more) moves to ``test``; the rest stays in ``train``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"split_ratings: test_fraction must be in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    train, test = r.copy(), np.zeros_like(r)
    for row in range(r.shape[0]):
        rated = np.flatnonzero(r[row])
        if len(rated) < 2:
            continue
        k = max(1, int(round(test_fraction * len(rated))))
        held = rng.choice(rated, size=k, replace=False)
        test[row, held] = r[row, held]
        train[row, held] = 0
    return train, test


def synthetic_ratings(n_users=600, n_items=400, rank=5, density=0.08, seed=0):
    """``(users, items, ratings)`` observed from a rank-``rank`` taste model: each user and item has
    ``rank`` latent factors, the score is their product plus a user and an item bias, mapped to
    the 1-5 stars; each user rates a random ``density`` of the items (at least 5)."""
    rng = np.random.default_rng(seed)
    pu, qi = rng.normal(0, 1, (n_users, rank)), rng.normal(0, 1, (n_items, rank))
    score = pu @ qi.T / np.sqrt(rank) + rng.normal(0, 0.5, (n_users, 1)) + rng.normal(0, 0.5, (1, n_items))
    stars = np.clip(np.round(3 + 1.2 * score), 1, 5)
    users, items = [], []
    for u in range(n_users):
        k = max(5, rng.binomial(n_items, density))
        chosen = rng.choice(n_items, size=k, replace=False)
        users.append(np.full(k, u))
        items.append(chosen)
    users, items = np.concatenate(users), np.concatenate(items)
    return users.astype(np.int64), items.astype(np.int64), stars[users, items].astype(np.float32)
