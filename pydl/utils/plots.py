"""Plotting helpers. matplotlib is an optional extra (``pip install matplotlib``): without it
the examples still run and print their results."""


def get_pyplot(show=False):
    """matplotlib.pyplot, set to draw off screen (Agg) unless ``show``; None, saying why, when
    matplotlib is not installed."""
    try:
        import matplotlib
        if not show:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no figure")
        return None
    return plt


def save_figure(fig, path, dpi=90):
    """Write ``fig`` to ``path`` (creating its folder) and say where it went."""
    import os
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    print(f"figure: {path}")


# ---------------------------------------------------------------- what a CNN sees (issue 8)
def _np(a):
    """A tensor or array as a float NumPy array (a weight that requires grad is detached)."""
    import numpy as np
    if hasattr(a, "detach"):
        a = a.detach().numpy()
    return np.asarray(a, dtype=np.float64)


def _grid(plt, n, cols, size=1.3):
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def plot_filters(layer, plt=None, cols=8, channel=None, title=None):
    """Draw a Conv2D layer's filters (its kernel is (filters, in_channels, kh, kw)), one small
    picture per filter, each scaled to its own range (dark = negative weights, light = positive).
    ``channel``: which input channel to show; None shows the mean over the input channels (for
    a first layer on grey images that is the filter itself). Also takes the kernel array.
    Returns the figure (None without matplotlib)."""
    plt = plt or get_pyplot()
    if plt is None:
        return None
    w = _np(layer.get_weights()[0] if hasattr(layer, "get_weights") else layer)
    if w.ndim != 4:
        raise ValueError(f"plot_filters: a Conv2D kernel is 4-D (filters, in_channels, kh, kw), got shape {w.shape}")
    if channel is not None and not 0 <= channel < w.shape[1]:
        raise ValueError(f"plot_filters: channel {channel} out of range for a kernel with {w.shape[1]} input channels")
    pics = w.mean(axis=1) if channel is None else w[:, channel]
    fig, axes = _grid(plt, len(pics), cols)
    for i, (ax, p) in enumerate(zip(axes, pics)):
        ax.imshow(p, cmap="gray")
        ax.set_title(str(i), fontsize=7)
    name = getattr(layer, "name", "kernel")
    fig.suptitle(title or f"{name}: {w.shape[0]} filters of {w.shape[2]}x{w.shape[3]}"
                 + ("" if channel is None and w.shape[1] == 1 else
                    f" (input channel {channel})" if channel is not None else " (mean over input channels)"),
                 fontsize=9)
    fig.tight_layout()
    return fig


def plot_feature_maps(model, image, plt=None, max_maps=16, cols=8, kinds=("Conv", "Pooling")):
    """The feature maps of one image through a model: one figure row block per layer whose class
    name contains one of ``kinds`` (the conv and pooling layers), at most ``max_maps`` channels
    each. ``image`` is one (C, H, W) sample. Returns the figure (None without matplotlib)."""
    from .inspect import layer_outputs
    plt = plt or get_pyplot()
    if plt is None:
        return None
    outs = [(name, _np(o)[0]) for name, layer, o in layer_outputs(model, image[None])
            if any(k in type(layer).__name__ for k in kinds) and _np(o).ndim == 4]
    if not outs:
        raise ValueError(f"plot_feature_maps: {getattr(model, 'name', model)} has no layer of kinds {kinds} with "
                         "image outputs")
    per_row = min(cols, max_maps)
    rows = sum(-(-min(len(m), max_maps) // per_row) for _, m in outs)
    fig, axes = plt.subplots(rows, per_row, figsize=(1.2 * per_row, 1.25 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.axis("off")
    r = 0
    for name, maps in outs:
        shown = maps[:max_maps]
        for i, m in enumerate(shown):
            ax = axes[r + i // per_row, i % per_row]
            ax.axis("on")
            ax.imshow(m, cmap="viridis")
            if i == 0:
                ax.set_ylabel(f"{name}\n{maps.shape[1]}x{maps.shape[2]}", fontsize=7)
        r += -(-len(shown) // per_row)
    fig.suptitle(f"feature maps of one image through {getattr(model, 'name', 'the model')}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_images(images, titles=None, plt=None, cols=8, title=None):
    """A grid of images ((N, C, H, W) or (N, H, W); one channel grey, three RGB): samples,
    augmented samples, reconstructions. Returns the figure (None without matplotlib)."""
    import numpy as np
    plt = plt or get_pyplot()
    if plt is None:
        return None
    x = _np(images)
    if x.ndim == 4:
        if x.shape[1] not in (1, 3):
            raise ValueError(f"plot_images: NCHW images need 1 or 3 channels, got shape {x.shape}")
        x = x[:, 0] if x.shape[1] == 1 else np.clip(x.transpose(0, 2, 3, 1), 0, 1)
    elif x.ndim != 3:
        raise ValueError(f"plot_images: expected (N, C, H, W) or (N, H, W) images, got shape {x.shape}")
    fig, axes = _grid(plt, len(x), cols)
    for i, (ax, img) in enumerate(zip(axes, x)):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_history(history, plt=None, metrics=None, title=None):
    """Training curves from ``model.fit``'s History (or its ``.history`` dict): one panel per
    quantity (loss, accuracy, ...), the training curve and, when present, the ``val_`` one.
    Returns the figure (None without matplotlib)."""
    plt = plt or get_pyplot()
    if plt is None:
        return None
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("plot_history: give the History that fit returned (or its .history dict); it is empty")
    names = metrics or [k for k in logs if not k.startswith("val_")]
    missing = [k for k in names if k not in logs]
    if missing:
        raise ValueError(f"plot_history: {missing} not in the history; it has {sorted(logs)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.2), squeeze=False)
    for ax, k in zip(axes[0], names):
        epochs = range(1, len(logs[k]) + 1)
        ax.plot(epochs, logs[k], label=f"training {k}")
        if f"val_{k}" in logs:
            ax.plot(range(1, len(logs[f"val_{k}"]) + 1), logs[f"val_{k}"], label=f"validation {k}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(k)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
