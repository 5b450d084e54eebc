"""The baseline classifiers of the augmentation study: eight of different strength, fixed hyper-parameters.

Nothing is tuned on test data; the settings below are fixed for every budget and augmenter (the study's
validation split only chooses how many synthetic images per real one to add). The scikit-learn models
see the flattened pixels in [-1, 1]; the CNN sees the images.

| name     | model (scikit-learn unless noted)                                          | strength     |
|----------|----------------------------------------------------------------------------|--------------|
| knn      | 1-nearest neighbour, Euclidean                                             | weak         |
| logreg   | multinomial logistic regression, C = 1 (L2), lbfgs, 200 iterations        | linear       |
| linsvm   | linear SVM (LinearSVC), C = 0.1, one-vs-rest                               | linear       |
| forest   | random forest, 50 trees, sqrt(d) features per split                        | medium       |
| boosting | histogram gradient boosting, 20 rounds, 15 leaves, learning rate 0.1       | medium       |
| mlp      | MLP, one hidden layer of 128 ReLU units, L-BFGS, L2 1e-3, 100 iterations   | medium       |
| rbfsvm   | RBF SVM, C = 10, gamma = 1 / (d var(X))  ("scale")                          | strong       |
| cnn      | torch CNN: 2 conv layers (16, 32 channels, 3x3, the second of stride 2),   | strong       |
|          | average pool to 4x4, linear; Adam 1e-3, 200 steps of 32 images            |              |

Example::

    pred = fit_predict("rbfsvm", x_train, y_train, [x_val, x_test], seed=0)   # two (N,) label arrays
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from gankit.studies.runner import StudyError

STRENGTH = {"knn": "weak", "logreg": "linear", "linsvm": "linear", "forest": "medium", "boosting": "medium",
            "mlp": "medium", "rbfsvm": "strong", "cnn": "strong"}


def _sklearn(name: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC, LinearSVC

    return {
        "knn": lambda: KNeighborsClassifier(n_neighbors=1),
        "logreg": lambda: LogisticRegression(C=1.0, max_iter=200),
        "linsvm": lambda: LinearSVC(C=0.1, max_iter=5000, random_state=seed),
        "forest": lambda: RandomForestClassifier(n_estimators=50, random_state=seed, n_jobs=1),
        "boosting": lambda: HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=15, learning_rate=0.1,
                                                           early_stopping=False, random_state=seed),
        "mlp": lambda: MLPClassifier(hidden_layer_sizes=(128,), solver="lbfgs", alpha=1e-3, max_iter=100,
                                      random_state=seed),
        "rbfsvm": lambda: SVC(C=10.0, gamma="scale", random_state=seed),
    }[name]()


class SmallCNN(nn.Module):
    """conv(16, 3x3) - ReLU - conv(32, 3x3, stride 2) - ReLU - avgpool to 4x4 - linear(K)."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4))
        self.head = nn.Linear(32 * 16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))


def _cnn(x: torch.Tensor, y: torch.Tensor, evals: Sequence[torch.Tensor], seed: int, num_classes: int,
         steps: int = 200, batch: int = 32) -> list[np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the layers' initialisation
    net = SmallCNN(x.shape[1], num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(len(x), (min(batch, len(x)),), generator=g)
        loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        return [torch.cat([net(chunk).argmax(1) for chunk in e.split(1000)]).numpy() for e in evals]


def fit_predict(name: str, x: torch.Tensor, y: torch.Tensor, evals: Sequence[torch.Tensor], seed: int,
                num_classes: int = 10, cnn_steps: int = 200) -> list[np.ndarray]:
    """Train classifier ``name`` on images ``x`` (N, C, H, W) in [-1, 1] with labels ``y``; predict ``evals``.
    ``cnn_steps``: the CNN's number of Adam steps (the study keeps 200; benchmarks/augment_cnn_steps.py varies it)."""
    if name not in STRENGTH:
        raise StudyError(f"unknown classifier {name!r}; choose from: {', '.join(STRENGTH)}")
    if name == "cnn":
        return _cnn(x.float(), y.long(), evals, seed, num_classes, steps=cnn_steps)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    model = _sklearn(name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x.flatten(1).numpy(), y.numpy())
    return [model.predict(e.flatten(1).numpy()) for e in evals]


__all__ = ["STRENGTH", "SmallCNN", "fit_predict"]
