"""Course topic (deck 002, autoencoders): the recommender autoencoder on a user-by-item rating matrix.

Each user is a row of ratings with most entries missing. An autoencoder reads the row and must
reproduce the ratings the user gave; the loss counts the observed entries only
(``pydl.losses.MaskedMeanSquaredError``: a missing rating contributes nothing to the loss or its
gradient). To recommend, the reconstruction's values at the items the user has not rated are the
predicted ratings (AutoRec, Sedhain et al. 2015, user-based).

A tenth of each user's ratings is held out; the test RMSE on them is printed beside the baseline
that predicts each user's mean rating, followed by the top-5 items for one user.

Data: MovieLens when you have it (``--data PATH`` to u.data / ratings.csv or a folder holding
one, or $PYDL_DATA/movielens), otherwise a generated low-rank rating matrix of the same kind.

    python examples/recommender_autoencoder.py [--data ml-100k/] [--epochs 40] [--units 64]
"""
import argparse

import numpy as np

import pydl
from pydl.datasets import movielens
from pydl.layers import Dense
from pydl.losses import MaskedMeanSquaredError
from pydl.regularizers import l2


def rmse(pred, truth):
    observed = truth > 0
    return float(np.sqrt(np.mean((pred[observed] - truth[observed]) ** 2)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MovieLens u.data or ratings.csv, or a folder holding one")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--users", type=int, default=600, help="users of the generated matrix")
    args = parser.parse_args()
    pydl.manual_seed(0)

    path = args.data or movielens.default_path()
    if path is not None:
        users, items, ratings = movielens.load_ratings(path)
        source = f"MovieLens ({path})"
    else:
        users, items, ratings = movielens.synthetic_ratings(n_users=args.users)
        source = "a generated rank-5 rating matrix (no MovieLens found; pass --data to use it)"
    r, user_ids, item_ids = movielens.rating_matrix(users, items, ratings)
    train, test = movielens.split_ratings(r, test_fraction=0.1, seed=0)
    print(f"{source}: {r.shape[0]} users x {r.shape[1]} items, {int((r > 0).sum())} ratings "
          f"({100 * (r > 0).mean():.1f}% observed); {int((test > 0).sum())} held out")

    model = pydl.models.Sequential([
        pydl.Input((r.shape[1],)),
        Dense(args.units, activation="sigmoid", kernel_regularizer=l2(args.l2), name="encoder"),
        Dense(r.shape[1], kernel_regularizer=l2(args.l2), name="decoder"),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(0.01), loss=MaskedMeanSquaredError(mask_value=0.0))
    model.fit(train, train, epochs=args.epochs, batch_size=32, verbose=2)
    pred = np.clip(model.predict(train, verbose=0), 1, 5)

    counts = (train > 0).sum(1, keepdims=True)
    global_mean = train[train > 0].mean()
    user_mean = np.where(counts > 0, train.sum(1, keepdims=True) / np.maximum(counts, 1), global_mean)
    baseline = np.broadcast_to(user_mean, r.shape)

    print("\ntest RMSE on the held-out ratings\n")
    print("| predictor | test RMSE |")
    print("|---|---|")
    print(f"| autoencoder ({args.units} units, masked loss) | {rmse(pred, test):.4f} |")
    print(f"| user's mean rating | {rmse(baseline, test):.4f} |")

    u = int(np.argmax(counts[:, 0]))
    unseen = np.flatnonzero(train[u] == 0)
    top = unseen[np.argsort(-pred[u, unseen], kind="stable")[:5]]
    print(f"\ntop 5 items for user {user_ids[u]} (rated {int(counts[u, 0])} items): "
          + ", ".join(f"item {item_ids[i]} ({pred[u, i]:.2f})" for i in top))


if __name__ == "__main__":
    main()
