"""pydl.datasets.movielens on generated files in MovieLens's two formats (no download)."""
import numpy as np
import pytest

from pydl.datasets import movielens


def write_u_data(path, rows):
    path.write_text("".join(f"{u}\t{i}\t{r}\t881250949\n" for u, i, r in rows))


def write_ratings_csv(path, rows):
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(f"{u},{i},{r},964982703\n" for u, i, r in rows))


ROWS = [(196, 242, 3), (186, 302, 3), (22, 377, 1), (196, 377, 4), (22, 242, 5)]


@pytest.mark.parametrize("fmt", ["u.data", "ratings.csv"])
def test_both_formats_give_the_same_matrix(tmp_path, fmt):
    folder = tmp_path / "ml" / "inner"
    folder.mkdir(parents=True)
    (write_u_data if fmt == "u.data" else write_ratings_csv)(folder / fmt, ROWS)
    users, items, ratings = movielens.load_ratings(tmp_path / "ml")  # a folder: found below it
    assert users.dtype == np.int64 and ratings.dtype == np.float32
    assert list(zip(users, items, ratings)) == [(u, i, float(r)) for u, i, r in ROWS]
    r, uid, iid = movielens.rating_matrix(users, items, ratings)
    assert list(uid) == [22, 186, 196] and list(iid) == [242, 302, 377]
    want = np.array([[5, 0, 1], [0, 3, 0], [3, 0, 4]], np.float32)
    np.testing.assert_array_equal(r, want)


def test_half_star_ratings_csv(tmp_path):
    write_ratings_csv(tmp_path / "ratings.csv", [(1, 10, 3.5), (1, 11, 0.5)])
    _, _, ratings = movielens.load_ratings(tmp_path / "ratings.csv")
    np.testing.assert_array_equal(ratings, [3.5, 0.5])


def test_split_keeps_every_rating_once():
    users, items, ratings = movielens.synthetic_ratings(n_users=50, n_items=40, seed=3)
    r, _, _ = movielens.rating_matrix(users, items, ratings)
    train, test = movielens.split_ratings(r, test_fraction=0.2, seed=1)
    np.testing.assert_array_equal(train + test, r)
    assert not ((train > 0) & (test > 0)).any()
    per_user = (test > 0).sum(1)
    assert (per_user >= 1).all()
    assert abs((test > 0).sum() / (r > 0).sum() - 0.2) < 0.05
    assert set(np.unique(r[r > 0])) <= {1, 2, 3, 4, 5}


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no u.data or ratings.csv"):
        movielens.load_ratings(tmp_path)
    (tmp_path / "ratings.csv").write_text("user,item,stars\n1,2,3\n")
    with pytest.raises(ValueError, match="header userId,movieId,rating"):
        movielens.load_ratings(tmp_path / "ratings.csv")
    (tmp_path / "u.data").write_text("1\t2\tfive\t0\n")
    with pytest.raises(ValueError, match="line 1: not a user id"):
        movielens.load_ratings(tmp_path / "u.data")
    with pytest.raises(ValueError, match="rated the same item twice"):
        movielens.rating_matrix([1, 1], [2, 2], [3, 4])
    with pytest.raises(ValueError, match="must be > 0"):
        movielens.rating_matrix([1], [2], [0])
