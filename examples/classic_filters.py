"""Course topic: the image kernels table (deck 002, "Convolution Layer"), as Conv2D weights.

Every kernel of the table (identity, three edge detectors, sharpen, box blur, Gaussian blur
3x3 and 5x5, unsharp masking 5x5; ``pydl.kernels``) is loaded into a Conv2D layer as a fixed
filter and applied to a real digit and to a generated test image (a bright square, a disc and
a smooth ramp). It prints what each kernel does to flat areas and to edges of the test image,
and draws every filtered image (matplotlib, optional):

    python examples/classic_filters.py [--out figures/classic_filters.png] [--show]

A blur keeps flat areas and softens edges; an edge detector is zero on flat areas and large on
edges; sharpen is the identity plus an edge detector.
"""
import argparse

import numpy as np

import pydl
from pydl import kernels
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Conv2D
from pydl.utils.plots import get_pyplot, save_figure


def test_image(size=28):
    """A bright square, a disc and a horizontal ramp on black: flat areas, straight and round
    edges, and a smooth gradient (laid out for a 28x28 image, scaled to ``size``)."""
    f = size / 28
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    img = np.zeros((size, size), dtype=np.float32)
    img[round(4 * f):round(12 * f), round(4 * f):round(12 * f)] = 1.0
    img[(y - 15 * f) ** 2 + (x - 19 * f) ** 2 <= (5 * f) ** 2] = 0.8
    ramp = round(22 * f)
    img[ramp:, :] = x[ramp:, :] / (size - 1)
    return img


def filter_bank(names, size, image_shape):
    """A Conv2D whose filters are the named kernels (no bias, 'same' padding, 1 input channel)."""
    conv = Conv2D(len(names), size, padding="same", use_bias=False, name=f"kernels_{size}x{size}")
    conv(pydl.zeros(1, *image_shape))  # build it for these images
    conv.set_weights([kernels.stack(names)])
    return conv


def apply_all(images):
    """(N, 1, H, W) images -> {kernel name: (N, H, W) filtered images}."""
    out = {}
    for size in (3, 5):
        names = [n for n, k in kernels.KERNELS.items() if k.shape[0] == size]
        maps = filter_bank(names, size, images.shape[1:])(pydl.tensor(images)).detach().numpy()
        out.update({n: maps[:, i] for i, n in enumerate(names)})
    return out


def edge_mask(img):
    """Pixels next to a change of value (the image's edges), by hand."""
    padded = np.pad(img, 1, mode="edge")
    diff = np.zeros_like(img)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = padded[1 + dy:1 + dy + img.shape[0], 1 + dx:1 + dx + img.shape[1]]
            diff = np.maximum(diff, np.abs(shifted - img))
    return diff > 0.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="figures/classic_filters.png")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    name, x_train, y_train, _, _ = load_mnist_or_digits(images=True)
    digit = x_train[0, 0]
    synthetic = test_image()  # 28x28 whatever the digits' size
    on_digit, on_synthetic = apply_all(digit[None, None]), apply_all(synthetic[None, None])
    filtered = {k: (on_digit[k][0], on_synthetic[k][0]) for k in on_digit}

    edges = edge_mask(synthetic)
    inner = np.zeros_like(edges)
    inner[2:-2, 2:-2] = True  # away from the image border ('same' padding adds zeros there)
    # flat: the 5x5 neighbourhood (the largest kernel's window) holds one value
    flat = inner.copy()
    for i, j in zip(*np.nonzero(inner)):
        window = synthetic[i - 2:i + 3, j - 2:j + 3]
        flat[i, j] = window.max() == window.min()
    print(f"test image {synthetic.shape}: {edges.sum()} edge pixels, {flat.sum()} flat pixels; a {name} digit "
          f"(label {int(y_train[0].argmax())})")
    print("mean |out - sum * in|: what a kernel changes, on flat areas (nothing, for every kernel: a\n"
          "constant patch comes out as the kernel's sum times itself) and on edges (a blur softens them,\n"
          "an edge detector answers only there)")
    print(f"{'kernel':<18}{'sum':>6}{'flat areas':>12}{'edges':>8}{'digit: min':>12}{'max':>7}")
    for kname, maps in filtered.items():
        out_syn, out_digit = maps[1], maps[0]
        change = np.abs(out_syn - kernels.KERNELS[kname].sum() * synthetic)
        print(f"{kname:<18}{kernels.KERNELS[kname].sum():>6.2f}{change[flat].mean():>12.3f}"
              f"{change[edges & inner].mean():>8.3f}{out_digit.min():>12.2f}{out_digit.max():>7.2f}")

    plt = get_pyplot(args.show)
    if plt is None:
        return
    names = list(filtered)
    fig, axes = plt.subplots(2, len(names) + 1, figsize=(1.6 * (len(names) + 1), 3.8))
    for row, (img, label) in enumerate(((digit, f"{name} digit"), (synthetic, "test image"))):
        axes[row, 0].imshow(img, cmap="gray")
        axes[row, 0].set_title(label, fontsize=8)
        for col, kname in enumerate(names, start=1):
            axes[row, col].imshow(filtered[kname][row], cmap="gray")
            axes[row, col].set_title(kname.replace("_", " "), fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("deck 002's kernels as Conv2D filters (pydl.kernels)")
    fig.tight_layout()
    save_figure(fig, args.out)
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
