"""Issue 10's generative models: one training step of pydl beside PyTorch CPU (when installed),
interleaved in one run, medians of repeats, ratios against PyTorch at the same thread count.

    python bench/generative.py [--repeats 5] [--quick] [--cases ae,vae,dcgan]

Cases (random data in [0, 1]; the work does not depend on the values):
  ae     the 784-256-64-256-784 autoencoder (ReLU, sigmoid output, binary crossentropy, Adam),
         batch 128: ms per training batch. pydl runs `model.fit` as a user would; PyTorch a plain
         loop with zero_grad/backward/step.
  vae    the MLP VAE of examples/vae_mnist.py (784-256-(16+16), Sampling, 16-256-784; the loss
         is the reconstruction crossentropy summed over pixels plus the KL term), batch 128: pydl
         fits the example's VAE (a Model subclass with its own train_step); PyTorch the same
         step written as a loop.
  dcgan  one GAN step of examples/gan_mnist.py's DCGAN pair, batch 64: D on real and generated
         images, then G through D (pydl: the example's GAN subclass and its train_step).

Each timing runs in a fresh subprocess that imports one framework only, and the frameworks
alternate (pydl, torch, pydl, ...). A worker times --steps calls after warm-up calls and reports
their median; the table shows the median over --repeats workers per framework. On these 2-core
machines figures drift 10-50% between runs: read the ratios of one run.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import numpy as np  # noqa: E402

from _timing import import_torch, measure, run_worker, table  # noqa: E402

BATCH = {"ae": 128, "vae": 128, "dcgan": 64}
LABELS = {
    "ae": "autoencoder 784-256-64-256-784 (b128)",
    "vae": "MLP VAE, 16-D latent (b128)",
    "dcgan": "DCGAN step, D then G (b64)",
}
LATENT_VAE = 16



def data(key, n):
    rng = np.random.default_rng(0)
    if key == "dcgan":
        return rng.random((n, 1, 28, 28), dtype=np.float32) * 2 - 1
    return rng.random((n, 784), dtype=np.float32)


# ------------------------------------------------------------------ pydl
def pydl_case(key, n):
    """Returns (fn, calls per fn)."""
    import pydl
    from pydl.layers import Dense
    from pydl.models import Sequential
    pydl.manual_seed(0)
    x = data(key, n)
    b = BATCH[key]
    if key == "ae":
        model = Sequential([pydl.Input((784,)), Dense(256, activation="relu"), Dense(64, activation="relu"),
                            Dense(256, activation="relu"), Dense(784, activation="sigmoid")])
        model.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="binary_crossentropy")
        return (lambda: model.fit(x, x, batch_size=b, epochs=1, verbose=0)), n // b
    if key == "vae":
        from vae_mnist import VAE, mlp_parts
        vae = VAE(*mlp_parts(784, LATENT_VAE))
        vae.compile(optimizer=pydl.optimizers.Adam(1e-3))
        return (lambda: vae.fit(x, batch_size=b, epochs=1, verbose=0)), n // b
    from gan_mnist import GAN, adam, dcgan_pair
    from pydl.losses import BinaryCrossentropy
    gan = GAN(*dcgan_pair(28))
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss_fn=BinaryCrossentropy())
    return (lambda: gan.fit(x, batch_size=b, epochs=1, verbose=0)), n // b


# ------------------------------------------------------------------ torch
def torch_case(key, n):
    torch = import_torch()
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(0)
    x = torch.from_numpy(data(key, n))
    b = BATCH[key]
    if key == "ae":
        net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 256),
                            nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

        def epoch():
            perm = torch.randperm(n)
            for i in range(0, n - b + 1, b):
                xb = x[perm[i:i + b]]
                loss = F.binary_cross_entropy(net(xb), xb)
                opt.zero_grad()
                loss.backward()
                opt.step()
        return epoch, n // b
    if key == "vae":
        enc, mean, logv = nn.Sequential(nn.Linear(784, 256), nn.ReLU()), nn.Linear(256, LATENT_VAE), \
            nn.Linear(256, LATENT_VAE)
        dec = nn.Sequential(nn.Linear(LATENT_VAE, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())
        params = [p for m in (enc, mean, logv, dec) for p in m.parameters()]
        opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)

        def epoch():
            perm = torch.randperm(n)
            for i in range(0, n - b + 1, b):
                xb = x[perm[i:i + b]]
                h = enc(xb)
                m, lv = mean(h), logv(h)
                z = m + torch.exp(0.5 * lv) * torch.randn_like(m)
                recon = F.binary_cross_entropy(dec(z), xb, reduction="none").sum(1).mean()
                kl = (-0.5 * (1 + lv - m * m - lv.exp())).sum(1).mean()
                loss = recon + kl
                opt.zero_grad()
                loss.backward()
                opt.step()
        return epoch, n // b
    q, latent = 7, 64
    g = nn.Sequential(nn.Linear(latent, 64 * q * q), nn.LeakyReLU(0.2), nn.Unflatten(1, (64, q, q)),
                      nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.BatchNorm2d(64, momentum=0.2), nn.LeakyReLU(0.2),
                      nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32, momentum=0.2), nn.LeakyReLU(0.2),
                      nn.Conv2d(32, 1, 5, padding=2), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 32, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 3, 2, 1), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(64 * q * q, 1), nn.Sigmoid())
    d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)

    def epoch():
        perm = torch.randperm(n)
        for i in range(0, n - b + 1, b):
            real = x[perm[i:i + b]]
            with torch.no_grad():
                fake = g(torch.randn(b, latent))
            d_opt.zero_grad()
            d_loss = F.binary_cross_entropy(d(real), torch.full((b, 1), 0.9)) + \
                F.binary_cross_entropy(d(fake), torch.zeros(b, 1))
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            d.zero_grad()
            g_loss = F.binary_cross_entropy(d(g(torch.randn(b, latent))), torch.ones(b, 1))
            g_loss.backward()
            g_opt.step()
    return epoch, n // b


def worker(framework, key, n, threads, steps):
    run_worker(framework, threads, steps, pydl_case, torch_case, key, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="a short run: 2 repeats, fewer samples and steps")
    ap.add_argument("--cases", default=",".join(LABELS))
    ap.add_argument("--threads", type=int, default=None, help="default: pydl's thread count")
    ap.add_argument("--worker", nargs=5, metavar=("FRAMEWORK", "CASE", "N", "THREADS", "STEPS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fw, key, n, threads, steps = args.worker
        worker(fw, key, int(n), int(threads), int(steps))
        return
    import pydl
    torch = import_torch()
    threads = args.threads or pydl.get_num_threads()
    repeats = 2 if args.quick else args.repeats
    steps = 3 if args.quick else 7
    keys = [k.strip() for k in args.cases.split(",") if k.strip()]
    for k in keys:
        if k not in LABELS:
            raise SystemExit(f"bench/generative.py: unknown case {k!r}; choose from {', '.join(LABELS)}")
    print(f"pydl {pydl.__version__}, {threads} threads, torch {torch.__version__ if torch else 'not installed'}; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; medians of {repeats} interleaved "
          f"workers (each its own process, the median of {steps} timed calls)")
    frameworks = ["pydl"] + (["torch"] if torch is not None else [])
    rows = []
    for key in keys:
        n = BATCH[key] * (4 if args.quick else 16)
        t = measure(__file__, frameworks, [key, n, threads, steps], repeats)
        rows.append([LABELS[key], f"{t['pydl'] * 1e3:.2f}",
                     f"{t['torch'] * 1e3:.2f}" if "torch" in t else "-",
                     f"{t['torch'] / t['pydl']:.2f}x" if "torch" in t else "-"])
    print(table(["training step", "pydl ms", "torch ms", "pydl speed / torch"], rows))
    print("(speed ratio > 1: pydl is faster)")


if __name__ == "__main__":
    main()
