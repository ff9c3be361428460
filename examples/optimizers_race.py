"""Course topic: optimizers - SGD, momentum, Nesterov, Adagrad, Adadelta, RMSprop and Adam.

Seven optimizers race on three classic 2-D surfaces, each driving a 2-element pydl tensor
(x, y) with the same C++ update kernels a model's ``fit`` uses, in a PyTorch-style loop:

    loss = f(p[0], p[1])      # pydl ops on the tensor: autograd records them
    opt.zero_grad(); loss.backward(); opt.step()

* Rosenbrock  f = (1 - x)^2 + 100 (y - x^2)^2, minimum (1, 1), a long curved valley:
  plain SGD crawls along its floor, momentum rolls down it.
* Beale       f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2, minimum (3, 0.5).
* Saddle      f = x^2 - y^2/2 + y^4/4 (x^2 - y^2 near the origin; the y^4 wall gives the race a
  finish line: minima at (0, +-1)), started at (1, 1e-4), next to the saddle point (0, 0).
  The gradient along y is tiny there: SGD stalls on the saddle, momentum and the methods that
  divide by the gradient's recent size (RMSprop, Adam) escape.

Each optimizer gets a learning rate chosen per function so the race is instructive (the
momentum methods share SGD's rate; Adadelta uses 1.0, its paper's rule). The table gives the
final loss and the distance to the nearest minimum after ``--steps`` steps; the figure shows
each trajectory on the contours (matplotlib, optional), ``--animate`` also writes a GIF.

    python examples/optimizers_race.py [--steps 1000] [--out examples/out/optimizers_race.png]
                                       [--animate] [--show] [--table race.md]
"""
import argparse
import math
import os

import numpy as np

import pydl
from pydl.utils.plots import get_pyplot, save_figure
from pydl.optimizers import SGD, Adadelta, Adagrad, Adam, RMSprop


# ---------------------------------------------------------------- the surfaces
# Written once with operators, so the same function takes pydl tensors (the race, with
# autograd) and NumPy arrays (the contour plot).
def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def saddle(x, y):
    return x ** 2 - y ** 2 / 2 + y ** 4 / 4


# name -> (function, start, minima, plot window (xmin, xmax, ymin, ymax), log-spaced contours?,
#          learning rate per optimizer)
FUNCTIONS = {
    "Rosenbrock": (rosenbrock, (-1.5, 2.0), [(1.0, 1.0)], (-2.0, 2.0, -1.0, 3.0), True,
                   {"SGD": 1e-3, "Momentum": 1e-3, "Nesterov": 1e-3, "Adagrad": 0.5, "Adadelta": 1.0,
                    "RMSprop": 0.01, "Adam": 0.1}),
    "Beale": (beale, (1.0, 1.5), [(3.0, 0.5)], (-1.0, 4.0, -1.5, 2.0), True,
              {"SGD": 1e-3, "Momentum": 1e-3, "Nesterov": 1e-3, "Adagrad": 0.5, "Adadelta": 1.0,
               "RMSprop": 0.01, "Adam": 0.05}),
    "Saddle": (saddle, (1.0, 1e-4), [(0.0, 1.0), (0.0, -1.0)], (-1.5, 1.5, -1.5, 1.5), False,
               {"SGD": 5e-3, "Momentum": 5e-3, "Nesterov": 5e-3, "Adagrad": 0.05, "Adadelta": 1.0,
                "RMSprop": 5e-3, "Adam": 5e-3}),
}

OPTIMIZERS = {
    "SGD": lambda p, lr: SGD([p], learning_rate=lr),
    "Momentum": lambda p, lr: SGD([p], learning_rate=lr, momentum=0.9),
    "Nesterov": lambda p, lr: SGD([p], learning_rate=lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda p, lr: Adagrad([p], learning_rate=lr),
    "Adadelta": lambda p, lr: Adadelta([p], learning_rate=lr),
    "RMSprop": lambda p, lr: RMSprop([p], learning_rate=lr),
    "Adam": lambda p, lr: Adam([p], learning_rate=lr),
}


def race(f, start, make_optimizer, steps):
    """Minimise f from ``start``; returns the trajectory, shape (steps + 1, 2)."""
    p = pydl.tensor(list(start), requires_grad=True)
    opt = make_optimizer(p)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        loss = f(p[0], p[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(p.detach().numpy().copy())
        if not np.isfinite(path[-1]).all():  # diverged: stop here, the table says so
            break
    return np.array(path, dtype=np.float64)


def run_all(steps):
    results = {}
    for fname, (f, start, minima, *_rest, rates) in FUNCTIONS.items():
        for oname, make in OPTIMIZERS.items():
            path = race(f, start, lambda p: make(p, rates[oname]), steps)
            x, y = path[-1]
            loss = float(f(x, y))
            dist = min(math.hypot(x - a, y - b) for a, b in minima)
            results[fname, oname] = dict(lr=rates[oname], path=path, loss=loss, dist=dist)
    return results


def table(results, steps):
    lines = [f"| function | optimizer | learning rate | loss after {steps} steps | distance to minimum |",
             "|---|---|---|---|---|"]
    for (fname, oname), r in results.items():
        lines.append(f"| {fname} | {oname} | {r['lr']:g} | {r['loss']:.4g} | {r['dist']:.4g} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- pictures (optional)
def _contours(ax, fname):
    f, start, minima, (x0, x1, y0, y1), log_levels, _ = FUNCTIONS[fname]
    X, Y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    Z = f(X, Y)
    if log_levels:
        ax.contour(X, Y, Z, levels=np.logspace(-1, math.log10(Z.max()), 25), cmap="viridis",
                   linewidths=0.6, alpha=0.7)
    else:
        ax.contour(X, Y, Z, levels=30, cmap="viridis", linewidths=0.6, alpha=0.7)
    for a, b in minima:
        ax.plot(a, b, "k*", markersize=12)
    ax.plot(*start, "ko", markersize=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(fname)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def plot(results, plt, out, animate, show):
    names = list(FUNCTIONS)
    colors = dict(zip(OPTIMIZERS, plt.get_cmap("tab10").colors))
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 5.5))
    lines = []
    for ax, fname in zip(axes, names):
        _contours(ax, fname)
        for oname in OPTIMIZERS:
            path = results[fname, oname]["path"]
            line, = ax.plot(path[:, 0], path[:, 1], "-", color=colors[oname], lw=1.5, label=oname)
            lines.append((line, path))
    axes[0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, out, dpi=80)

    if animate:
        try:
            from matplotlib.animation import FuncAnimation, PillowWriter
            import PIL  # noqa: F401  (PillowWriter needs Pillow)
        except ImportError:
            print("--animate needs Pillow (pip install pillow); skipped the GIF")
        else:
            n = max(len(p) for _, p in lines)
            frames = np.unique(np.geomspace(1, n, 60).astype(int) - 1)  # early steps move most

            def draw(i):
                for line, path in lines:
                    k = min(i, len(path) - 1) + 1
                    line.set_data(path[:k, 0], path[:k, 1])
                return [l for l, _ in lines]

            gif = os.path.splitext(out)[0] + ".gif"
            FuncAnimation(fig, draw, frames=frames, blit=True).save(gif, writer=PillowWriter(fps=10), dpi=50)
            print(f"animation: {gif}")
    if show:
        plt.show()
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps per racer (default 1000)")
    parser.add_argument("--quick", action="store_true", help="200 steps, for a smoke test")
    parser.add_argument("--out", default=os.path.join("examples", "out", "optimizers_race.png"))
    parser.add_argument("--table", help="also write the markdown table to this file")
    parser.add_argument("--animate", action="store_true", help="also write a GIF (needs Pillow)")
    parser.add_argument("--show", action="store_true", help="open the figure in a window")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    steps = 200 if args.quick else args.steps
    pydl.manual_seed(0)

    results = run_all(steps)
    text = table(results, steps)
    print(text)
    if args.table:
        with open(args.table, "w") as fh:
            fh.write(text + "\n")

    if not args.no_plot:
        plt = get_pyplot(args.show)
        if plt is not None:
            plot(results, plt, args.out, args.animate, args.show)


if __name__ == "__main__":
    main()
