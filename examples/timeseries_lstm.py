"""Course topic: a many-to-one LSTM forecasting a price series (deck 004's RNN, the course's
price forecast).

The next day's Brent crude price from the last ``--window`` days: the series is read from
$PYDL_DATA/timeseries/brent-daily.csv (or any ``Date,Price`` CSV given with --csv), cut in time
order into training, validation and test spans, scaled with statistics of the training span only
(the test span must not leak into the scaling), windowed (``pydl.utils.make_windows``), and fed
to LSTM(32) -> Dense(1) trained with early stopping on the validation span, twice: once
predicting the next price itself, once predicting the change from today (forecast = today +
change). The test errors are printed beside the naive forecast "tomorrow = today", which a daily
price is hard to beat: the level model lags behind the moves, the change model stays close to
naive. The predictions are drawn against the truth (matplotlib, optional).

    python examples/timeseries_lstm.py [--csv prices.csv] [--days 3000] [--window 30] [--epochs 20]
"""
import argparse
import os
import sys

import numpy as np

import pydl
from pydl.callbacks import EarlyStopping
from pydl.layers import LSTM, Dense
from pydl.models import Sequential
from pydl.utils import MinMaxScaler, make_windows
from pydl.utils.plots import get_pyplot, save_figure


def load_prices(path):
    """(dates, prices) from a CSV with a header and Date,Price rows; rows without a price dropped."""
    dates, prices = [], []
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
        if [h.strip().lower() for h in header[:2]] != ["date", "price"]:
            raise ValueError(f"{path}: expected a header 'Date,Price', got {','.join(header)!r}")
        for line in fh:
            parts = line.strip().split(",")
            if len(parts) >= 2 and parts[1].strip():
                dates.append(parts[0])
                prices.append(float(parts[1]))
    return np.array(dates), np.array(prices, dtype=np.float64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=None)
    parser.add_argument("--days", type=int, default=3000, help="use the last N days of the series")
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default="figures/timeseries_lstm.png")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    path = args.csv or os.path.join(os.environ.get("PYDL_DATA", ""), "timeseries", "brent-daily.csv")
    if not os.path.exists(path):
        print(f"no price series at {path}: pass --csv FILE (Date,Price rows) or set PYDL_DATA to a folder holding "
              "timeseries/brent-daily.csv")
        return 0
    pydl.manual_seed(0)
    dates, prices = load_prices(path)
    dates, prices = dates[-args.days:], prices[-args.days:]
    n = len(prices)
    train_end, val_end = int(n * 0.7), int(n * 0.85)
    print(f"{os.path.basename(path)}: {n} days {dates[0]} .. {dates[-1]}; training to {dates[train_end - 1]}, "
          f"validation to {dates[val_end - 1]}, test to {dates[-1]}")

    scaler = MinMaxScaler().fit(prices[:train_end, None])  # the training span only
    scaled = scaler.transform(prices[:, None]).astype(np.float32)

    def span(lo, hi):  # windows whose target lies in [lo, hi)
        return make_windows(scaled[max(lo - args.window, 0):hi], args.window)

    x_tr, y_tr = span(0, train_end)
    x_va, y_va = span(train_end, val_end)
    x_te, y_te = span(val_end, n)
    truth = scaler.inverse_transform(y_te.reshape(-1, 1).astype(np.float64))[:, 0]
    naive = scaler.inverse_transform(x_te[:, -1, :].astype(np.float64))[:, 0]  # tomorrow = today
    forecasts = {}
    for target in ("level", "change"):
        pydl.manual_seed(0)
        model = Sequential([LSTM(32, input_shape=(args.window, 1)), Dense(1)])
        model.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="mse")
        shift = (lambda x: x[:, -1, :]) if target == "change" else (lambda x: 0.0)
        print(f"LSTM predicting the next day's {target}:")
        model.fit(x_tr, y_tr - shift(x_tr), batch_size=32, epochs=args.epochs,
                  validation_data=(x_va, y_va - shift(x_va)), verbose=2,
                  callbacks=[EarlyStopping(patience=4, restore_best_weights=True)])
        scaled_pred = model.predict(x_te, verbose=0) + shift(x_te)
        forecasts[target] = scaler.inverse_transform(scaled_pred.astype(np.float64))[:, 0]
    pred = forecasts["change"]

    def rmse(a):
        return float(np.sqrt(np.mean((a - truth) ** 2)))

    def mae(a):
        return float(np.mean(np.abs(a - truth)))
    print()
    print("| forecast of the next day (test span) | RMSE ($) | MAE ($) |")
    print("|---|---|---|")
    for target, f in forecasts.items():
        print(f"| LSTM(32) on the last {args.window} days, predicting the {target} | {rmse(f):.3f} | {mae(f):.3f} |")
    print(f"| naive: tomorrow = today | {rmse(naive):.3f} | {mae(naive):.3f} |")

    plt = get_pyplot(args.show)
    if plt is None:
        return 0
    fig, ax = plt.subplots(figsize=(9, 4))
    days = dates[-len(truth):]
    ax.plot(range(len(truth)), truth, label="price", color="black", linewidth=1)
    ax.plot(range(len(truth)), forecasts["level"], label="LSTM forecast of the level", linewidth=1)
    ax.plot(range(len(truth)), pred, label="LSTM forecast of the change", linewidth=1)
    ticks = np.linspace(0, len(truth) - 1, 5).astype(int)
    ax.set_xticks(ticks)
    ax.set_xticklabels(days[ticks], fontsize=8)
    ax.set_ylabel("$ per barrel")
    ax.set_title("next-day forecast on the test span")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, args.out)
    if args.show:
        plt.show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
