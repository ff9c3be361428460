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
