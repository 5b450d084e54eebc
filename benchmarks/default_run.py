"""Wall time and quality figure of the README's main job (`gankit train`) and of `gankit train --preset ring8`.

Each command runs in a fresh subprocess, timed from start to exit (imports, data loading, training,
evaluation), exactly as a user would run it.

    python benchmarks/default_run.py [--skip-ring8] [--skip-default]

Writes the sections "default_run" and "ring8_run" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402


def run(args: list[str], run_dir: Path) -> tuple[float, dict, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gankit.cli", "train", *args, "--run-dir", str(run_dir)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"gankit train {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    quality = json.loads((run_dir / "quality.json").read_text())
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(("FID", "modes")))
    return seconds, quality, line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--skip-ring8", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_default:
            seconds, q, line = run([], Path(tmp) / "default")
            v, fp = q["values"], q["fingerprint"]
            body = f"""## The main job: `gankit train`

`python benchmarks/default_run.py`: the README's first command after installation, timed end to end
(start-up, data, {json.loads((Path(tmp) / 'default' / 'config.json').read_text())['train']['steps']} generator steps, evaluation).

| wall time | FID | FID real-vs-real | KID | KID real-vs-real |
|---|---|---|---|---|
| {seconds / 60:.1f} min ({seconds:.0f} s) | {v['fid']:.2f} | {v['fid_real_vs_real']:.2f} | {v['kid']:.4f} | {v['kid_real_vs_real']:.4f} |

Printed: `{line}`

Fingerprint: {json.dumps(fp)}
"""
            write_section("default_run", body)
            print(line, f"({seconds:.0f} s)")
        if not args.skip_ring8:
            seconds, q, line = run(["--preset", "ring8"], Path(tmp) / "ring8")
            body = f"""## `gankit train --preset ring8`

`python benchmarks/default_run.py`: one seed (0) of the ring8 preset, timed end to end.
Protocol of ../shared/BENCHMARKS.md section 1 (2,500 samples, HQ = within 3 std of the nearest mode).

Printed: `{line}`

Values: {json.dumps(q['values'])}
"""
            write_section("ring8_run", body)
            print(line, f"({seconds:.0f} s)")


if __name__ == "__main__":
    main()
