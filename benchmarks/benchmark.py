"""Time LeNet-BN in fmcnn (and in PyTorch when it is installed) on this machine.

Prints figures; asserts nothing. Timings on shared machines drift, so every
figure is a median over repeats, and the NumPy and PyTorch steps are interleaved.

    python benchmarks/benchmark.py [--repeats 200] [--batch-size 64] [--threads N]
"""
import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

from fmcnn.data import load_fashion_mnist
from fmcnn.models import lenet_bn
from fmcnn.nn import SoftmaxCrossEntropy
from fmcnn.optim import Adam
from fmcnn.preprocess import to_input


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def numpy_step(model, opt, loss_fn, x, y):
    opt.zero_grad()
    loss_fn.forward(model.forward(x), y)
    model.backward(loss_fn.backward())
    opt.step()


def per_layer_table(model, x, repeats):
    rows, h = [], x
    for name, layer in model.named_layers():
        inp = h
        fwd = median_ms(lambda: layer.forward(inp), repeats)
        h = layer.forward(inp)
        g = np.ones_like(h)
        layer.forward(inp)
        bwd = median_ms(lambda: layer.backward(g), repeats)
        rows.append((name, fwd, bwd))
    return rows


def torch_lenet(torch):
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=0, help="also time this many end-to-end training steps")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch intra-op threads (default: PyTorch's own choice); use 1 to match "
                             "OPENBLAS_NUM_THREADS=1, or on a busy machine where spinning threads collapse")
    args = parser.parse_args()

    images, labels = load_fashion_mnist("train")
    test_images, _ = load_fashion_mnist("test")
    x_all = to_input(images)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(x_all), args.batch_size)
    x, y = x_all[idx], labels[idx].astype(np.int64)
    model, loss_fn = lenet_bn(), SoftmaxCrossEntropy()
    model["conv1"].input_grad = False   # as fmcnn.train does: the images' gradient is never used
    opt = Adam(model.parameters())
    for _ in range(10):
        numpy_step(model, opt, loss_fn, x, y)

    print(f"fmcnn LeNet-BN benchmark: batch {args.batch_size}, float32, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print("\nPer layer (median ms):")
    print(f"  {'layer':<9} {'forward':>8} {'backward':>9}")
    total_f = total_b = 0.0
    for name, f, b in per_layer_table(model.train(), x, max(20, args.repeats // 4)):
        print(f"  {name:<9} {f:>8.3f} {b:>9.3f}")
        total_f, total_b = total_f + f, total_b + b
    print(f"  {'sum':<9} {total_f:>8.3f} {total_b:>9.3f}")

    try:
        import torch
    except ImportError:
        torch = None
    tstep = None
    if torch is not None:
        if args.torch_threads:
            torch.set_num_threads(args.torch_threads)
        torch.manual_seed(0)
        tmodel = torch_lenet(torch)
        topt = torch.optim.Adam(tmodel.parameters())
        tloss = torch.nn.CrossEntropyLoss()
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def tstep():
            topt.zero_grad()
            tloss(tmodel(tx), ty).backward()
            topt.step()

    # Interleave the frameworks so both see the same machine state.
    np_times, t_times = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        numpy_step(model, opt, loss_fn, x, y)
        np_times.append(time.perf_counter() - t)
        if tstep is not None:
            t = time.perf_counter()
            tstep()
            t_times.append(time.perf_counter() - t)
    np_ms = 1e3 * statistics.median(np_times)
    print(f"\nTraining step (forward + loss + backward + Adam), median of {args.repeats}:")
    print(f"  fmcnn   {np_ms:7.2f} ms/step")
    if t_times:
        t_ms = 1e3 * statistics.median(t_times)
        print(f"  PyTorch {t_ms:7.2f} ms/step ({torch.__version__}, {torch.get_num_threads()} threads); "
              f"fmcnn/PyTorch = {np_ms / t_ms:.2f}")

    x_test = to_input(test_images)
    model.eval()
    inf = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(0, len(x_test), 1000):
            model.forward(x_test[i:i + 1000])
        inf.append(time.perf_counter() - t)
    print(f"\nInference, 10,000 test images at batch 1000: {len(x_test) / statistics.median(inf):,.0f} images/s")
    if torch is not None:
        tmodel.eval()
        tt = torch.from_numpy(x_test)
        with torch.no_grad():
            inf = []
            for _ in range(5):
                t = time.perf_counter()
                for i in range(0, len(tt), 1000):
                    tmodel(tt[i:i + 1000])
                inf.append(time.perf_counter() - t)
        print(f"  PyTorch: {len(x_test) / statistics.median(inf):,.0f} images/s")
    model.train()

    if args.steps:
        from fmcnn.train import TrainConfig, train
        t = time.perf_counter()
        train(TrainConfig(steps=args.steps), progress=False)
        print(f"\nEnd to end: {args.steps} training steps (data preparation included) in {time.perf_counter() - t:.1f} s")

    tracemalloc.start()
    numpy_step(model, opt, loss_fn, x, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nMemory: peak NumPy allocation within one training step {peak / 2**20:.1f} MiB; "
          f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB "
          "(includes the 60,000 training images as float32, 188 MB)")


if __name__ == "__main__":
    main()
