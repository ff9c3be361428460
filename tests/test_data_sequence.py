"""pydl.data.sequence: reading a generator or a Sequence batch by batch (what fit uses)."""
import numpy as np
import pytest

from pydl.data import Sequence
from pydl.data.sequence import BatchSource, is_batch_source


class Counting(Sequence):
    """Batch i holds the rows i*bs .. of an arange; counts on_epoch_end calls."""

    def __init__(self, n=10, bs=4):
        self.x = np.arange(n, dtype=np.float32)[:, None]
        self.y = self.x * 2
        self.bs = bs
        self.ends = 0

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, i):
        s = slice(i * self.bs, (i + 1) * self.bs)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.ends += 1


def test_is_batch_source():
    assert is_batch_source(Counting())
    assert is_batch_source(iter([1]))
    assert is_batch_source(x for x in [])
    for not_one in (np.zeros(3), [np.zeros(3)], (np.zeros(3),), {"a": np.zeros(3)}, "abc"):
        assert not is_batch_source(not_one)


def test_a_sequence_is_read_in_order_with_its_length_as_the_epoch():
    seq = Counting()
    src = BatchSource(seq, None, "fit", "steps_per_epoch")
    assert src.steps == 3
    for _ in range(2):
        got = [(step, x[:, 0].tolist(), y[:, 0].tolist(), w) for step, x, y, w in src.epoch()]
        src.end_epoch()
        assert got == [(0, [0, 1, 2, 3], [0, 2, 4, 6], None), (1, [4, 5, 6, 7], [8, 10, 12, 14], None),
                       (2, [8, 9], [16, 18], None)]
    assert seq.ends == 2


def test_a_shuffled_sequence_visits_every_batch_once_per_epoch_in_new_orders():
    src = BatchSource(Counting(n=40, bs=4), None, "fit", "steps_per_epoch", shuffle=True, seed=0)
    orders = []
    for _ in range(3):
        firsts = [int(x[0, 0]) // 4 for _, x, _, _ in src.epoch()]
        assert sorted(firsts) == list(range(10))
        orders.append(firsts)
    assert len({tuple(o) for o in orders}) > 1


def test_steps_shorter_than_the_sequence_and_too_long():
    src = BatchSource(Counting(), 2, "fit", "steps_per_epoch")
    assert [x[0, 0] for _, x, _, _ in src.epoch()] == [0, 4]
    with pytest.raises(ValueError, match="steps_per_epoch=5 but the Sequence Counting has only 3 batches"):
        BatchSource(Counting(), 5, "fit", "steps_per_epoch")


def test_a_generator_continues_across_epochs():
    def gen():
        i = 0
        while True:
            yield np.full((2, 1), i, np.float32), np.zeros((2, 1), np.float32), np.ones(2, np.float32)
            i += 1
    src = BatchSource(gen(), 3, "fit", "steps_per_epoch")
    assert src.first[0][0, 0] == 0 and src.first[2].tolist() == [1, 1]
    e1 = [x[0, 0] for _, x, _, _ in src.epoch()]
    e2 = [x[0, 0] for _, x, _, _ in src.epoch()]
    assert e1 == [0, 1, 2] and e2 == [3, 4, 5]  # the peeked first batch is used, not lost or repeated


def test_generator_errors():
    with pytest.raises(ValueError, match="x is a generator, which has no length: give steps_per_epoch"):
        BatchSource(iter([(np.zeros(1), np.zeros(1))]), None, "fit", "steps_per_epoch")
    src = BatchSource(iter([(np.zeros(1), np.zeros(1))] * 2), 3, "fit", "steps_per_epoch")
    with pytest.raises(ValueError, match="ran out after 2 of this epoch's 3 batches"):
        list(src.epoch())
    with pytest.raises(ValueError, match="batch 0 has no targets"):
        BatchSource(iter([np.zeros(1)]), 1, "fit", "steps_per_epoch")
    with pytest.raises(ValueError, match="a tuple of 4 items"):
        BatchSource(iter([(1, 2, 3, 4)]), 1, "fit", "steps_per_epoch")
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive int"):
        BatchSource(iter([]), 0, "fit", "steps_per_epoch")
    # predict needs no targets: a bare x batch is fine
    src = BatchSource(iter([np.ones((2, 1))]), 1, "predict", "steps", need_y=False)
    assert src.first[1] is None


def test_an_empty_sequence_raises():
    class Empty(Sequence):
        def __len__(self):
            return 0
    with pytest.raises(ValueError, match="has length 0"):
        BatchSource(Empty(), None, "fit", "steps_per_epoch")
