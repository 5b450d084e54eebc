"""Datasets: each reports its shape, channels and classes (:class:`DataInfo`); networks follow from that."""

from __future__ import annotations

from gankit.data.base import DataInfo, Dataset, Split
from gankit.data.sampler import InfiniteSampler


def build_dataset(cfg) -> Dataset:  # cfg: gankit.config.DataConfig
    """Build the dataset named by ``cfg.name`` (see ``gankit.registry.DATASETS``)."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.registry import DATASETS

    return DATASETS.get(cfg.name)(cfg)


__all__ = ["DataInfo", "Dataset", "Split", "InfiniteSampler", "build_dataset"]
