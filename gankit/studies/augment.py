"""Does adding a GAN's samples to the training set make a classifier better? (``gankit study augment``)

The seed article's three framings, measured on one grid:

1. **Empirical.** For each label budget n (labelled training images per class), seed, augmenter and
   situation, eight baseline classifiers (:mod:`gankit.studies.classifiers`) are trained on the labelled
   set D and on D plus the augmenter's images D_G, and tested on the test split. Per (budget, classifier,
   augmenter) the paired differences to "none" over seeds give a mean with a bootstrap 95 % CI, an exact
   Wilcoxon signed-rank p-value, Holm-corrected over every comparison of the study, effect sizes (d_z,
   rank-biserial) and a verdict (:mod:`gankit.studies.stats`). Beside it, the classification accuracy
   score (CAS: logistic regression trained on D_G alone, tested on real) vs real-only at the same size.
2. **Entropy.** k-NN estimates of H(D) and H(D_G) in the bundled extractor's feature space.
3. **Bayesian information gain.** IG(D_G) = H(w | D) - H(w | D u D_G), exact for the Gaussian linear
   model on those features (:mod:`gankit.studies.information`).

Situations (the seed article's): **A** - every augmenter sees only the n labelled images per class;
**B** - the generative ones also see the rest of the training split (unlabelled for the VAE and the PCA
basis, labelled for the conditional GANs), with the real upper bound "real" (D plus those images with
their labels) beside them. Pairing: for a seed, every augmenter gets the same labelled subset, and every
classifier the same seed. Nothing of the validation or test split reaches an augmenter; the validation
split only chooses, per classifier, how many synthetic images per real one to add (``--ratios``).

Example::

    gankit study augment --data digits --seeds 16 --workers 2 --out studies/augment-digits
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from typing import Any

from gankit.studies.runner import Job, Study, StudyError, StudyReport, settings_of

DESCRIPTION = "does adding GAN samples to the training set help a classifier? (seed article, 3 framings)"
DEFAULT_OUT = "studies/augment"
VERSION = 1  # part of every job's spec: bump it when a job's computation changes, so old records are redone

DEFAULTS = {  # the reduced default grid per dataset, and the full grid docs/studies/augment.md measures
    "digits": {"budgets": [5, 20], "gan_steps": 300, "full_budgets": [5, 10, 20, 50, 100]},
    "mnist5k": {"budgets": [5, 10, 50, 100, 400], "gan_steps": 1500, "full_budgets": [5, 10, 50, 100, 400]},
}
ALL_AUGMENTERS = ["none", "affine", "mixup", "smote", "pca", "vae", "cgan", "acgan", "real"]
ALL_CLASSIFIERS = ["knn", "logreg", "linsvm", "forest", "boosting", "mlp", "rbfsvm", "cnn"]
FEATURE_IG = {"alpha": 1.0, "beta": 1.0}


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def add_arguments(parser: Any) -> None:
    parser.add_argument("--data", default="digits", choices=sorted(DEFAULTS),
                        help="digits (8x8, the fast default) or mnist5k (28x28)")
    parser.add_argument("--budgets", type=_ints, metavar="N,N,..",
                        help="labelled training images per class (default: digits 5,20; mnist5k 5,10,50,100,400)")
    parser.add_argument("--seeds", type=int, default=16, help="seeds per cell, paired across augmenters (default 16)")
    parser.add_argument("--classifiers", type=_names, metavar="A,B,..",
                        help=f"default all: {','.join(ALL_CLASSIFIERS)}")
    parser.add_argument("--augmenters", type=_names, metavar="A,B,..", help=f"default all: {','.join(ALL_AUGMENTERS)}")
    parser.add_argument("--situations", type=_names, default=["A", "B"], metavar="A,B",
                        help="A: generators see the labelled images only; B: also the rest of the training split")
    parser.add_argument("--ratios", type=_ints, default=[1], metavar="R,R,..",
                        help="synthetic images per real one; with several, the validation split chooses (default 1)")
    parser.add_argument("--gan-steps", type=int, metavar="S",
                        help="training steps of the VAE and GANs (default: digits 300, mnist5k 1500)")


# ---- one job ----------------------------------------------------------------------------------------
_DATASETS: dict[str, Any] = {}


def load_dataset(name: str):
    """The study's dataset (cached per process)."""
    if name not in _DATASETS:
        from gankit.data.digits import load_digits_dataset, load_mnist5k

        if name not in DEFAULTS:
            raise StudyError(f"--data: choose digits or mnist5k, got {name!r}")
        _DATASETS[name] = load_digits_dataset() if name == "digits" else load_mnist5k()
    return _DATASETS[name]


def labelled_subset(y, budget: int, seed: int, num_classes: int):
    """``budget`` random training indices of each class (seeded): the labelled set D of a seed."""
    import torch

    g = torch.Generator().manual_seed(10_007 * seed + budget)
    out = []
    for c in range(num_classes):
        members = torch.nonzero(y == c)[:, 0]
        if len(members) < budget:
            raise StudyError(f"--budgets: {budget} per class, but class {c} has {len(members)} training images")
        out.append(members[torch.randperm(len(members), generator=g)[:budget]])
    return torch.cat(out)


def synthesize(dataset, budget: int, seed: int, augmenter: str, situation: str, n_out: int, steps: int):
    """(labelled x, labelled y, synthetic x, synthetic y) of one job; only ``dataset.train`` is read."""
    import torch

    from gankit.studies.augmenters import augment, study_input

    train = dataset.train
    x_all, y_all = train.float_x(), train.y
    k = dataset.info.num_classes
    labelled = labelled_subset(y_all, budget, seed, k)
    inp = study_input(x_all, y_all, labelled, k, situation, augmenter)
    torch.manual_seed(seed)
    x_syn, y_syn = augment(augmenter, inp, n_out, seed, steps)
    if augmenter == "real":  # all of Y, in a seeded order, so its first rows are a random subset
        perm = torch.randperm(len(x_syn), generator=torch.Generator().manual_seed(seed))
        x_syn, y_syn = x_syn[perm], y_syn[perm]
    return inp.x, inp.y, x_syn, y_syn


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_job(data: str, budget: int, seed: int, augmenter: str, situation: str, classifiers: list[str],
            ratios: list[int], gan_steps: int, version: int = VERSION) -> dict[str, Any]:
    """One (data, budget, seed, augmenter, situation) cell: every classifier's accuracies, CAS, entropy, IG."""
    import torch

    from gankit.metrics.extractor import extractor_for
    from gankit.studies.classifiers import fit_predict
    from gankit.studies.information import entropy_pair, information_gain

    dataset = load_dataset(data)
    k = dataset.info.num_classes
    x_val, y_val = dataset.split("val").float_x(), dataset.split("val").y.numpy()
    x_test, y_test = dataset.split("test").float_x(), dataset.split("test").y.numpy()
    t0 = time.perf_counter()
    n_real = budget * k
    x, y, x_syn, y_syn = synthesize(dataset, budget, seed, augmenter, situation, max(ratios) * n_real, gan_steps)
    seconds_augment = time.perf_counter() - t0
    choices = [0] if augmenter == "none" else [-1] if augmenter == "real" else sorted(set(ratios))

    def train_set(r: int):
        m = len(x_syn) if r == -1 else r * n_real
        return torch.cat([x, x_syn[:m]]), torch.cat([y, y_syn[:m]])

    results: dict[str, Any] = {}
    for name in classifiers:
        t = time.perf_counter()
        per_ratio = []
        for r in choices:
            xt, yt = train_set(r)
            pv, pt = fit_predict(name, xt, yt, [x_val, x_test], seed=seed, num_classes=k)
            per_ratio.append({"ratio": r, "val_acc": float((pv == y_val).mean()), "test_acc": float((pt == y_test).mean())})
        best = max(per_ratio, key=lambda e: (e["val_acc"], -e["ratio"]))  # ties: fewer synthetic images
        results[name] = {"test_acc": best["test_acc"], "val_acc": best["val_acc"], "ratio": best["ratio"],
                         "per_ratio": per_ratio, "seconds": round(time.perf_counter() - t, 3)}
    out: dict[str, Any] = {"n_real": n_real, "n_synthetic": int(len(x_syn)), "classifiers": results,
                           "seconds_augment": round(seconds_augment, 3)}
    extractor = extractor_for(dataset.info)
    if augmenter != "none" and len(x_syn) >= n_real:
        head_x, head_y = x_syn[:n_real], y_syn[:n_real]
        (pt,) = fit_predict("logreg", head_x, head_y, [x_test], seed=seed, num_classes=k)
        out["cas"] = {"classifier": "logreg", "n": n_real, "test_acc": float((pt == y_test).mean())}
        if extractor is not None:
            f_d, f_g = extractor(x), extractor(head_x)
            ent = entropy_pair(f_d, f_g, k=3)
            out["entropy"] = {key: (_finite(v) if isinstance(v, float) else v) for key, v in ent.items()}
            out["ig"] = {"nats": information_gain(f_d, f_g, outputs=k, **FEATURE_IG), "n_g": n_real,
                         **FEATURE_IG, "outputs": k}
    if extractor is not None:
        out["extractor"] = extractor.fingerprint()
    if seed == 0 and augmenter != "none":  # a preview for the report: one synthetic image per class
        pick = [int(torch.nonzero(y_syn == c)[0, 0]) for c in range(k) if bool((y_syn == c).any())]
        codes = ((x_syn[pick].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        out["preview"] = {"labels": [int(v) for v in y_syn[pick]], "shape": list(codes.shape[1:]),
                          "codes": codes.flatten().tolist()}
    out["fingerprint"] = {"data": data, "test_n": int(len(y_test)), "val_n": int(len(y_val)),
                          "test_sha256": dataset.split("test").content_sha256()[:16]}
    return out


# ---- the study ---------------------------------------------------------------------------------------
def variants(augmenters: list[str], situations: list[str]) -> list[tuple[str, str]]:
    """(augmenter, situation) pairs of a grid: "none" once (it sees D in both), "real" in B only."""
    from gankit.studies.augmenters import AUGMENTERS

    out = []
    for a in augmenters:
        if a not in AUGMENTERS:
            raise StudyError(f"--augmenters: unknown {a!r}; choose from: {', '.join(ALL_AUGMENTERS)}")
        if a == "none":
            out.append(("none", "A"))
            continue
        out += [(a, s) for s in situations if s in AUGMENTERS[a].situations]
    return out


@dataclass
class AugmentStudy(Study):
    data: str = "digits"
    budgets: list[int] | None = None
    seeds: int = 16
    classifiers: list[str] | None = None
    augmenters: list[str] | None = None
    situations: list[str] = field(default_factory=lambda: ["A", "B"])
    ratios: list[int] = field(default_factory=lambda: [1])
    gan_steps: int | None = None
    name: str = "augment"

    def __post_init__(self) -> None:
        if self.data not in DEFAULTS:
            raise StudyError(f"--data: choose digits or mnist5k, got {self.data!r}")
        self.budgets = list(self.budgets or DEFAULTS[self.data]["budgets"])
        self.classifiers = list(self.classifiers or ALL_CLASSIFIERS)
        self.augmenters = list(self.augmenters or ALL_AUGMENTERS)
        self.gan_steps = int(self.gan_steps or DEFAULTS[self.data]["gan_steps"])
        for c in self.classifiers:
            if c not in ALL_CLASSIFIERS:
                raise StudyError(f"--classifiers: unknown {c!r}; choose from: {', '.join(ALL_CLASSIFIERS)}")
        bad = [s for s in self.situations if s not in ("A", "B")]
        if bad:
            raise StudyError(f"--situations: A and/or B, got {bad[0]!r}")
        if self.seeds < 2 or min(self.budgets) < 1 or min(self.ratios) < 1 or self.gan_steps < 1:
            raise StudyError("--seeds must be at least 2, and --budgets, --ratios, --gan-steps at least 1")
        if "none" not in self.augmenters:
            self.augmenters.insert(0, "none")  # every comparison is to "none"

    def settings(self) -> dict[str, Any]:
        return settings_of(self)

    def budgets_without_pool(self) -> list[int]:
        """Budgets at which every training image is labelled: situation B's pool is empty there, so each B job
        would repeat its A job bit for bit (and 'real' would repeat 'none'); the grid leaves them out."""
        import torch

        y = load_dataset(self.data).train.y
        counts = torch.bincount(y.long()).tolist()
        return [b for b in self.budgets if all(c == b for c in counts)]

    def jobs(self) -> list[Job]:
        from gankit.studies.augmenters import variant_name  # (torch: not at import, the CLI parser imports us)

        out = []
        no_pool = self.budgets_without_pool() if "B" in self.situations else []
        for budget in self.budgets:
            for seed in range(self.seeds):
                for a, s in variants(self.augmenters, self.situations):
                    if s == "B" and budget in no_pool:
                        continue
                    params = {"data": self.data, "budget": budget, "seed": seed, "augmenter": a, "situation": s,
                              "classifiers": self.classifiers, "ratios": self.ratios, "gan_steps": self.gan_steps,
                              "version": VERSION}
                    out.append(Job("gankit.studies.augment:run_job", params,
                                   label=f"{self.data}-n{budget}-s{seed}-{variant_name(a, s)}"))
        return out

    def report(self, records: list[dict[str, Any]]) -> StudyReport:
        from gankit.studies.augment_report import build_report

        return build_report(self, records)


STUDY = AugmentStudy
__all__ = ["AugmentStudy", "STUDY", "labelled_subset", "load_dataset", "run_job", "synthesize", "variants"]
