"""Course topic: what a convolution layer computes (deck 003, "CNN - Convolution").

The slides' 6x6 black-and-white image and their two 3x3 filters. First by hand, with the plain
loops below (a filter slides over the image; each output is the sum of the elementwise products
under it), at stride 1 and stride 2; then 2x2 max pooling and flatten. Then the same network as
pydl layers (Conv2D with the filters loaded as its weights, MaxPooling2D, Flatten), which must
print the same numbers. Last, the parameter count that makes a convolution cheaper than a dense
layer on images.

    python examples/conv_by_hand.py
"""
import numpy as np

import pydl
from pydl.layers import Conv2D, Flatten, MaxPooling2D
from pydl.models import Sequential

IMAGE = np.array([
    [1, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 1, 0],
    [0, 0, 1, 1, 0, 0],
    [1, 0, 0, 0, 1, 0],
    [0, 1, 0, 0, 1, 0],
    [0, 0, 1, 0, 1, 0],
], dtype=np.float32)

FILTER_1 = np.array([[1, -1, -1],
                     [-1, 1, -1],
                     [-1, -1, 1]], dtype=np.float32)   # a diagonal line detector
FILTER_2 = np.array([[-1, 1, -1],
                     [-1, 1, -1],
                     [-1, 1, -1]], dtype=np.float32)   # a vertical line detector


def convolve(image, kernel, stride=1):
    """The loop on the slide: put the filter on the image, multiply, add up, move by ``stride``."""
    kh, kw = kernel.shape
    out_h = (image.shape[0] - kh) // stride + 1
    out_w = (image.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            total = 0.0
            for u in range(kh):
                for v in range(kw):
                    total += image[i * stride + u, j * stride + v] * kernel[u, v]
            out[i, j] = total
    return out


def max_pool(feature_map, size=2):
    """Keep the largest value of each size x size block."""
    out_h, out_w = feature_map.shape[0] // size, feature_map.shape[1] // size
    out = np.zeros((out_h, out_w), dtype=feature_map.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = feature_map[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
    return out


def show(title, a):
    print(title)
    for row in np.atleast_2d(a):
        print("   " + " ".join(f"{int(v):3d}" for v in row))


def main():
    pydl.manual_seed(0)
    show("6 x 6 image", IMAGE)
    by_hand = {}
    for name, kernel in (("filter 1", FILTER_1), ("filter 2", FILTER_2)):
        for stride in (1, 2):
            fmap = convolve(IMAGE, kernel, stride)
            by_hand[name, stride] = fmap
            show(f"{name}, stride {stride}: {fmap.shape[0]} x {fmap.shape[1]} feature map", fmap)
    pooled = [max_pool(by_hand["filter 1", 1]), max_pool(by_hand["filter 2", 1])]
    for name, p in zip(("filter 1", "filter 2"), pooled):
        show(f"{name}, 2 x 2 max pooling: a new, smaller image", p)
    flat = np.stack(pooled).reshape(-1)  # channel by channel, as Flatten on NCHW does
    show("flatten: the input of the fully connected network", flat)

    # The same with pydl's layers: one input channel, two filters, no bias.
    model = Sequential([
        Conv2D(2, kernel_size=3, strides=1, use_bias=False, input_shape=(1, 6, 6), name="conv"),
        MaxPooling2D(pool_size=2, name="pool"),
        Flatten(name="flatten"),
    ])
    conv = model.layers[0]
    conv.set_weights([np.stack([FILTER_1, FILTER_2])[:, None]])  # (filters, in_channels, 3, 3)
    x = IMAGE[None, None]  # (batch 1, channel 1, 6, 6)
    maps = conv(pydl.tensor(x)).detach().numpy()[0]
    out = model.predict(x, verbose=0)[0]
    print()
    print("pydl: Conv2D(2, 3) feature maps equal the loops':",
          all(np.array_equal(maps[k], by_hand[n, 1]) for k, n in enumerate(("filter 1", "filter 2"))))
    strided = Conv2D(2, 3, strides=2, use_bias=False)
    strided(pydl.tensor(x))  # builds it
    strided.set_weights(conv.get_weights())
    maps2 = strided(pydl.tensor(x)).detach().numpy()[0]
    print("pydl: Conv2D(2, 3, strides=2) equals the loops':",
          all(np.array_equal(maps2[k], by_hand[n, 2]) for k, n in enumerate(("filter 1", "filter 2"))))
    print("pydl: Conv2D -> MaxPooling2D -> Flatten equals the loops':", np.array_equal(out, flat))
    show("pydl's flattened output", out)

    print()
    model.summary()
    conv_params = conv.count_params()
    dense_params = IMAGE.size * maps.size  # every output connected to every pixel
    print(f"a convolution: {conv_params} weights (2 filters x 3 x 3), each output sees 9 pixels and the weights "
          f"are shared across positions;\na dense layer from 36 pixels to the same {maps.size} outputs: "
          f"{dense_params} weights ({dense_params // conv_params} times as many).")


if __name__ == "__main__":
    main()
