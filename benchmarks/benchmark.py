"""Time LeNet-BN in fmcnn (its plain layers and its fast fused network), optionally beside an older fmcnn and PyTorch, on this machine.

Prints figures; asserts nothing. Timings on shared machines drift between fast
and slow modes, so every figure is a median over repeats and the contenders
(this fmcnn's layered model and its FusedLeNetBN, a baseline checkout of fmcnn,
PyTorch) take turns of 20 untimed and 20 timed training steps.

    OPENBLAS_NUM_THREADS=1 python benchmarks/benchmark.py [--repeats 300] [--torch-threads 1]
        [--baseline DIR]   # another checkout, e.g. `git worktree add /tmp/before <commit>`
        [--steps 5000]     # also time end-to-end training
"""
import argparse
import collections
import importlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import fmcnn
from fmcnn.data import load_fashion_mnist
from fmcnn.preprocess import to_input


def import_baseline(directory):
    """Import the fmcnn package of another checkout as ``fmcnn_baseline`` (its layers use relative imports)."""
    init = os.path.join(directory, "fmcnn", "__init__.py")
    if not os.path.isfile(init):
        sys.exit(f"--baseline {directory}: no fmcnn/__init__.py there; pass the root of an fmcnn checkout.")
    spec = importlib.util.spec_from_file_location("fmcnn_baseline", init,
                                                  submodule_search_locations=[os.path.dirname(init)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["fmcnn_baseline"] = package
    spec.loader.exec_module(package)
    return package


def fused_network(package_name):
    """FusedLeNetBN of an fmcnn package: in fmcnn.fast since the speed tricks moved there, in
    fmcnn.fused in older checkouts (a --baseline)."""
    try:
        return importlib.import_module(f"{package_name}.fast").FusedLeNetBN
    except ModuleNotFoundError:
        return importlib.import_module(f"{package_name}.fused").FusedLeNetBN


class NumpyContender:
    """LeNet-BN, Adam and the loss from one fmcnn package, set up as fmcnn.train does."""

    def __init__(self, package_name, x, y, fused=False):
        models = importlib.import_module(f"{package_name}.models")
        nn = importlib.import_module(f"{package_name}.nn")
        optim = importlib.import_module(f"{package_name}.optim")
        self.model, self.loss_fn = models.lenet_bn(seed=0), nn.SoftmaxCrossEntropy()
        self.model["conv1"].input_grad = False     # as fmcnn.train does: nobody uses the images' gradient
        # The network that runs: the layered model itself, or FusedLeNetBN over the same parameters.
        self.net = fused_network(package_name)(self.model) if fused else self.model
        self.opt = optim.Adam(self.model.parameters())
        self.x, self.y = x, y

    def step(self):
        self.opt.zero_grad()
        self.loss_fn.forward(self.net.forward(self.x), self.y)
        self.net.backward(self.loss_fn.backward())
        self.opt.step()

    def infer(self, images):
        for i in range(0, len(images), 1000):
            self.net.forward(images[i:i + 1000])

    def per_layer_ms(self, repeats):
        """Median forward and backward ms of every layer, timed inside whole training steps."""
        targets = [(layer, kind, lambda args, key=(name, kind): key)
                   for name, layer in self.model.named_layers() for kind in ("forward", "backward")]
        return timed_calls(self.step, repeats, targets)

    def fused_stage_ms(self, repeats):
        """Median ms of the parts of a FusedLeNetBN training step, timed inside whole steps.

        Returns [(depth, label, ms)] in the order the step runs them; "the rest" of
        a pass is its median minus its parts' medians.
        """
        fused, net = sys.modules[type(self.net).__module__], self.net
        stages = {"conv1_and_sums": "conv1 and its sums (two cores)",
                  "centre": "block 1: centring, sums of squares (two cores)",
                  "pool1_and_conv2": "block 1: scale, pool, ReLU; conv2 (two cores)",
                  "conv2_back": "block 2, conv2 (banded), block 1's sums (two cores)",
                  "conv1_back": "block 1, conv1 (two cores)"}
        targets = [(fused, "on_two_cores", lambda a: stages.get(a[0].__name__, a[0].__name__)),
                   (net, "forward", lambda a: "forward"), (net, "backward", lambda a: "backward"),
                   (self.loss_fn, "forward", lambda a: "loss"), (self.loss_fn, "backward", lambda a: "loss"),
                   (self.opt, "step", lambda a: "Adam")]
        ms = timed_calls(self.step, repeats, targets, sum_per_step=True)
        rows = []
        for kind, parts, rest in (("forward", list(stages.values())[:3], "this thread: BatchNorm's sums, block 2, fc layers"),
                                  ("backward", list(stages.values())[3:], "this thread: fc layers, block 2's sums, the rest")):
            rows += [(0, kind, ms[kind])] + [(1, label, ms[label]) for label in parts]
            rows.append((1, rest, ms[kind] - sum(ms[label] for label in parts)))
            if kind == "forward":
                rows.append((0, "loss, forward and backward", ms["loss"]))
        return rows + [(0, "Adam", ms["Adam"])]


def timed_calls(step, repeats, targets, sum_per_step=False):
    """Run ``step()`` ``repeats`` times, timing the calls of ``targets``: {key: median ms}.

    targets: (owner, attribute, key) triples; ``owner.attribute`` (a method, or a
    module's function) is replaced by a wrapper that records how long each call
    takes under ``key(args)``, and put back afterwards. With ``sum_per_step`` the
    calls sharing a key within one step are added up before the median is taken.
    """
    times, restore = collections.defaultdict(list), []
    for owner, attr, key in targets:
        method = getattr(owner, attr)

        def timed(*args, _method=method, _key=key, **kwargs):
            start = time.perf_counter()
            result = _method(*args, **kwargs)
            times[_key(args)].append(time.perf_counter() - start)
            return result
        restore.append((owner, attr, method, attr in vars(owner)))
        setattr(owner, attr, timed)
    per_step = collections.defaultdict(list)
    try:
        for _ in range(repeats):
            times.clear()
            step()
            for k, values in times.items():
                per_step[k].extend([sum(values)] if sum_per_step else values)
    finally:
        for owner, attr, method, own in reversed(restore):
            if own:
                setattr(owner, attr, method)
            else:
                delattr(owner, attr)               # back to the class's method
    return {k: 1e3 * statistics.median(values) for k, values in per_step.items()}


class TorchContender:
    """The same network, optimizer and loss in PyTorch."""

    def __init__(self, torch, x, y, threads):
        if threads:
            torch.set_num_threads(threads)
        torch.manual_seed(0)
        nn = torch.nn
        self.torch = torch
        self.model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        self.opt = torch.optim.Adam(self.model.parameters())
        self.loss_fn = nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def step(self):
        self.opt.zero_grad()
        self.loss_fn(self.model(self.x), self.y).backward()
        self.opt.step()

    def infer(self, images):
        with self.torch.no_grad():
            t = self.torch.from_numpy(images)
            for i in range(0, len(t), 1000):
                self.model(t[i:i + 1000])


STEP_TURN, STEP_WARMUP = 20, 20


def interleaved_medians(contenders, repeats, turn=1, warmup=0):
    """Let the contenders take turns, each turn ``warmup`` untimed and ``turn`` timed calls, until
    each has ``repeats`` timed calls; median ms per contender.

    Taking turns keeps a slow spell of a shared machine from landing on one contender only.
    The untimed calls let a contender reach its steady state again: after another library's
    steps its data is out of the caches, and PyTorch's idle worker threads keep spinning on
    the second core for about a tenth of a second after its last step (fmcnn's fused step
    measured 7.6 ms right after a turn of PyTorch steps, 5.8 ms fifteen steps later).
    """
    times = {name: [] for name in contenders}
    for _ in range(max(1, repeats // turn)):
        for name, fn in contenders.items():
            for _ in range(warmup):
                fn()
            for _ in range(turn):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=0, help="also time this many end-to-end training steps")
    parser.add_argument("--baseline", metavar="DIR",
                        help="root of another fmcnn checkout to time side by side (e.g. made with "
                             "`git worktree add /tmp/before <commit>`)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch intra-op threads (default: PyTorch's own choice); use 1 to match "
                             "OPENBLAS_NUM_THREADS=1, or on a busy machine where spinning threads collapse")
    args = parser.parse_args()

    images, labels = load_fashion_mnist("train")
    x_all = to_input(images)
    idx = np.random.default_rng(0).integers(0, len(x_all), args.batch_size)
    x, y = x_all[idx], labels[idx].astype(np.int64)
    x_test = to_input(load_fashion_mnist("test")[0])

    numpy_contenders = {"fmcnn": NumpyContender("fmcnn", x, y)}
    if args.baseline:
        import_baseline(args.baseline)
        numpy_contenders[f"baseline ({args.baseline})"] = NumpyContender("fmcnn_baseline", x, y)
    contenders = dict(numpy_contenders)
    contenders["fmcnn fused"] = NumpyContender("fmcnn", x, y, fused=True)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        contenders[f"PyTorch {torch.__version__}"] = TorchContender(torch, x, y, args.torch_threads)
    for c in contenders.values():              # warm-up: first calls allocate and fill caches
        for _ in range(10):
            c.step()

    print(f"LeNet-BN benchmark: batch {args.batch_size}, float32, numpy {np.__version__}, python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, fmcnn from {os.path.dirname(fmcnn.__file__)}")
    if torch is not None:
        print(f"PyTorch threads: {torch.get_num_threads()}")

    step_ms = interleaved_medians({name: c.step for name, c in contenders.items()}, args.repeats,
                                  STEP_TURN, STEP_WARMUP)
    ref = step_ms["fmcnn"]
    turns = max(1, args.repeats // STEP_TURN)
    print(f"\nTraining step (forward + loss + backward + Adam), median of {turns * STEP_TURN}, in turns of "
          f"{STEP_WARMUP} untimed and {STEP_TURN} timed steps:")
    for name, ms in step_ms.items():
        print(f"  {name:<34} {ms:7.2f} ms/step   {ms / ref:5.2f} x fmcnn")
    if len(numpy_contenders) > 1:
        base = numpy_contenders[next(n for n in numpy_contenders if n != "fmcnn")].model
        diff = max(float(np.max(np.abs(p.data - q.data)))
                   for p, q in zip(numpy_contenders["fmcnn"].model.parameters(), base.parameters()))
        print(f"  after the same {10 + turns * (STEP_WARMUP + STEP_TURN)} steps from the same start, the largest difference "
              f"between fmcnn's and the baseline's parameters is {diff:.3g}")

    print("\nPer layer, timed inside training steps (median ms):")
    layer_ms = {name: c.per_layer_ms(max(50, args.repeats // 3)) for name, c in numpy_contenders.items()}
    header = "".join(f"{'fwd':>8}{'bwd':>8}  " for _ in layer_ms)
    print(f"  {'':<9}" + "".join(f"{name[:16]:>18}" for name in layer_ms))
    print(f"  {'layer':<9}{header}")
    for name, _ in numpy_contenders["fmcnn"].model.named_layers():
        print(f"  {name:<9}" + "".join(f"{t[(name, 'forward')]:8.3f}{t[(name, 'backward')]:8.3f}  "
                                        for t in layer_ms.values()))
    print(f"  {'sum':<9}" + "".join(
        f"{sum(v for (_, k), v in t.items() if k == 'forward'):8.3f}"
        f"{sum(v for (_, k), v in t.items() if k == 'backward'):8.3f}  " for t in layer_ms.values()))

    print("\nWhere FusedLeNetBN's step goes, timed inside training steps (median ms):")
    for depth, label, ms in contenders["fmcnn fused"].fused_stage_ms(max(50, args.repeats // 3)):
        print(f"  {'  ' * depth}{label:<{64 - 2 * depth}} {ms:6.3f}")

    print("\nInference, the 10,000 test images at batch 1000 (median of 5 passes, interleaved):")
    numpy_models = [c.model for c in contenders.values() if isinstance(c, NumpyContender)]
    for model in numpy_models:
        model.eval()
    inf_ms = interleaved_medians({name: (lambda c=c: c.infer(x_test)) for name, c in contenders.items()}, 5)
    for name, ms in inf_ms.items():
        print(f"  {name:<34} {len(x_test) / ms * 1e3:9,.0f} images/s")
    for model in numpy_models:
        model.train()

    if args.steps:
        print(f"\nEnd to end: {args.steps} training steps of the course recipe in a fresh process, "
              "data loading and preparation included:")
        root = os.path.dirname(os.path.dirname(os.path.abspath(fmcnn.__file__)))
        runs = {"fmcnn": (root, False), "fmcnn fused": (root, True)}
        if args.baseline:
            runs[f"baseline ({args.baseline})"] = (os.path.abspath(args.baseline), False)
        for name, (checkout, fused) in runs.items():
            seconds, peak_mib = end_to_end(checkout, args.steps, fused)
            print(f"  {name:<34} {seconds:6.1f} s, peak memory (RSS) {peak_mib:,.0f} MiB")

    step = numpy_contenders["fmcnn"].step
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nMemory: peak NumPy allocation within one fmcnn training step {peak / 2**20:.1f} MiB")


def end_to_end(root, steps, fused=False):
    """Train ``steps`` steps with the fmcnn in checkout ``root`` (``fused``: with FusedLeNetBN) in a
    child process: (seconds, peak RSS in MiB).

    A fresh process measures what a user's run costs, startup and data preparation
    included, and its peak memory is not mixed up with this process's (PyTorch,
    other models). The peak is the child's own VmHWM: its rusage would also
    count this process's memory, which the child inherits until it execs.
    """
    code = f"""
import time
start = time.perf_counter()
from fmcnn.train import TrainConfig, train
config = TrainConfig(steps={steps})
if hasattr(config, "fused"):     # checkouts older than the fused network have no such option
    config.fused = {fused}
train(config, progress=False)
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(seconds, peak_kib)
"""
    # cwd=root as well: `python -c` puts the working directory first on sys.path.
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=root), cwd=root,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"end-to-end training with the fmcnn in {root} failed:\n{result.stderr}")
    seconds, peak_kib = result.stdout.split()[-2:]
    return float(seconds), int(peak_kib) / 2**10

if __name__ == "__main__":
    main()
