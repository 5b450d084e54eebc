"""Peak memory of loading image data: float32 (before) vs uint8 codes (after), and a streamed image folder.

Writes CIFAR-10-sized data (50,000 train + 10,000 test images of 3 x 32 x 32, random pixels) in the
CIFAR python-pickle format that ``data.name=cifar10`` reads, and an image folder of PNGs, into a
temporary folder. Each variant then runs in a fresh subprocess that, once torch and gankit are
imported, resets its peak resident set size (Linux ``/proc/self/clear_refs``) and reports the peak
(``VmHWM``) minus the RSS at that moment: what the data cost, without the imports' own peak:

- ``cifar float32``: the loader as it was before (every pixel converted to float32 at load, then
  the splits gathered from that), reproduced here step by step from the same public helpers;
- ``cifar uint8``: ``load_cifar10`` now (uint8 codes), then 200 training batches of 64 drawn
  through the stream the trainer uses (converted per batch);
- ``folder in memory``: ``load_image_folder`` of the PNGs (uint8 codes), 200 batches;
- ``folder streamed``: the same with ``memory_budget_mb=0`` (nothing decoded at load), 200 batches
  read by a DataLoader with 0 and with 2 worker processes (the workers' own peak is reported too).

    python benchmarks/data_memory.py [--pngs 10000]

Writes the section "data_memory" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

N_TRAIN, N_TEST, PER_BATCH = 50_000, 10_000, 10_000
BATCHES, BATCH_SIZE = 200, 64


def write_cifar(folder: Path, seed: int = 0) -> Path:
    """data_batch_1..5 and test_batch of random CIFAR-shaped images, as the real pickles hold them."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, N_TRAIN // PER_BATCH + 1)] + ["test_batch"]
    for name in names:
        data = rng.integers(0, 256, size=(PER_BATCH, 3072), dtype=np.uint8)
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, PER_BATCH).tolist(), b"data": data}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return folder


def write_pngs(folder: Path, n: int, seed: int = 1) -> Path:
    """``n`` random 32 x 32 RGB PNGs in 10 class folders."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n):
        path = folder / f"class{i % 10}" / f"{i:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(path)
    return folder


# -- the variants, each run in its own process ---------------------------------------------------


def old_float32_cifar(root: Path):
    """The cifar10 loader before uint8 storage: float32 for every pixel at load, splits gathered from it."""
    import torch

    from gankit.data.base import Dataset, DataInfo, Split, images_to_unit_range, splits_from_indices, stratified_split
    from gankit.data.digits import SPLIT_SEED

    def read(path: Path):
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")  # the benchmark's own files
        return batch[b"data"].reshape(-1, 3, 32, 32), np.asarray(batch[b"labels"], dtype=np.int64)

    batches = [read(root / f"data_batch_{i}") for i in range(1, 6)]
    train_images = np.concatenate([b[0] for b in batches])
    train_labels = np.concatenate([b[1] for b in batches])
    test_images, test_labels = read(root / "test_batch")
    x_train = images_to_unit_range(train_images, 255.0)
    x_test = images_to_unit_range(test_images, 255.0)
    n = len(train_labels)
    parts = stratified_split(train_labels, {"train": n - 5000, "val": 5000}, SPLIT_SEED)
    splits = splits_from_indices(x_train, torch.from_numpy(train_labels), parts)
    splits["test"] = Split(x_test, torch.from_numpy(test_labels))
    return Dataset(DataInfo("cifar10", "image", (3, 32, 32), 10), splits)


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> float:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def run_variant(name: str, root: Path, workers: int) -> dict:
    import torch

    from gankit.data import make_batch_stream
    from gankit.data.cifar import load_cifar10
    from gankit.data.folder import load_image_folder

    start_mb = _reset_peak()  # imports done: the peak from here on is what the variant itself needs
    t0 = time.perf_counter()
    if name == "baseline":
        ds = None
    elif name == "cifar-float32":
        ds = old_float32_cifar(root)
    elif name == "cifar-uint8":
        ds = load_cifar10(root)
    elif name == "folder-memory":
        ds = load_image_folder(root, memory_budget_mb=None)
    elif name == "folder-streamed":
        ds = load_image_folder(root, memory_budget_mb=0)
    else:
        raise SystemExit(f"unknown variant {name}")
    load_s = time.perf_counter() - t0
    out = {"variant": name, "load_s": load_s}
    if ds is not None:
        out["held_mb"] = sum(s.nbytes for s in ds.splits.values()) / 2**20
        out["stored_as"] = "on disk" if ds.train.streamed else str(ds.train.x.dtype).removeprefix("torch.")
        if name != "cifar-float32":  # the old loader is measured at rest; its batches were plain gathers
            stream = make_batch_stream(ds.train, BATCH_SIZE, seed=0, workers=workers)
            t0 = time.perf_counter()
            check = 0.0
            for _ in range(BATCHES):
                batch = stream.next()
                check += float(batch.x[:, 0, 0, 0].sum())
            out["batches_per_s"] = BATCHES / (time.perf_counter() - t0)
            assert batch.x.dtype == torch.float32 and -1.0 <= float(batch.x.min()) and float(batch.x.max()) <= 1.0
            if hasattr(stream, "close"):
                stream.close()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["start_rss_mb"], out["variant_peak_rss_mb"] = start_mb, _status_mb("VmHWM")
    out["children_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def measure(name: str, root: Path, workers: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--variant", name, "--root", str(root), "--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["workers"] = workers
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pngs", type=int, default=10_000)
    ap.add_argument("--variant")
    ap.add_argument("--root", type=Path)
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    if args.variant:  # a child process: one variant, its figures as one JSON line
        print(json.dumps(run_variant(args.variant, args.root, args.workers)))
        return

    from _report import write_section

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cifar = write_cifar(Path(tmp) / "cifar-10-batches-py")
        pngs = write_pngs(Path(tmp) / "pngs", args.pngs)
        print(f"wrote the data in {time.perf_counter() - t0:.0f} s", flush=True)
        base = measure("baseline", cifar)
        rows = [measure("cifar-float32", cifar), measure("cifar-uint8", cifar), measure("folder-memory", pngs),
                measure("folder-streamed", pngs, workers=0), measure("folder-streamed", pngs, workers=2)]

    what = {"cifar-float32": "CIFAR-10, float32 at load (before)", "cifar-uint8": "CIFAR-10, uint8 codes (after)",
            "folder-memory": f"folder of {args.pngs:,} PNGs, in memory (uint8)",
            "folder-streamed": f"folder of {args.pngs:,} PNGs, streamed"}
    lines = [
        "## Data memory",
        "",
        f"`python benchmarks/data_memory.py --pngs {args.pngs}`: CIFAR-10-sized data (50,000 train + 10,000 "
        "test images of 3 x 32 x 32, random pixels) written as the CIFAR python pickles, and a folder of "
        f"{args.pngs:,} random 32 x 32 RGB PNGs in 10 class folders. Each row is a fresh process; peak RSS is "
        "the process's high-water mark (`VmHWM`, reset after the imports), and \"data\" is that minus the "
        f"RSS at the reset (about {base['start_rss_mb']:.0f} MiB of torch and gankit). \"Held\" is the bytes the "
        "three splits keep. Batches: "
        f"{BATCHES} training batches of {BATCH_SIZE} drawn through the trainer's stream "
        "(`make_batch_stream`), converted to float32 per batch; the float32 row is the loader at rest.",
        "",
        "| variant | workers | stored as | held (MiB) | peak RSS (MiB) | data (MiB) | workers' peak RSS (MiB) | load (s) | batches / s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    def data(r: dict) -> float:
        return r["variant_peak_rss_mb"] - r["start_rss_mb"]

    for r in rows:
        bps = f"{r['batches_per_s']:.0f}" if "batches_per_s" in r else "-"
        kids = f"{r['children_peak_rss_mb']:.0f}" if r["workers"] else "-"
        lines.append(f"| {what[r['variant']]} | {r['workers'] if r['variant'] == 'folder-streamed' else '-'} | "
                     f"{r['stored_as']} | {r['held_mb']:.0f} | {r['variant_peak_rss_mb']:.0f} | "
                     f"{data(r):.0f} | {kids} | {r['load_s']:.1f} | {bps} |")
    old, new = rows[0], rows[1]
    lines += [
        "",
        f"CIFAR-10: the splits hold {old['held_mb']:.0f} MiB as float32 and {new['held_mb']:.0f} MiB as uint8 "
        f"({old['held_mb'] / new['held_mb']:.1f}x less); the peak above the RSS after imports falls from "
        f"{data(old):.0f} to {data(new):.0f} MiB ({data(old) / max(data(new), 1):.1f}x). "
        "The uint8 peak is set by loading (the unpickled batches and their concatenation, and the split "
        f"gather), not by training: the codes held are {new['held_mb']:.0f} MiB. A streamed folder holds no pixels at all; its "
        "cost is reading and decoding each batch's files (the batches / s column), spread over the workers, whose RSS is mostly pages shared with the training process (forked). The throughput columns are noisy: the 2-core machine ran other jobs at the time.",
    ]
    print(write_section("data_memory", "\n".join(lines)))


if __name__ == "__main__":
    main()
