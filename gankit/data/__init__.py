"""Datasets: each reports its shape, channels and classes (:class:`DataInfo`); networks follow from that."""

from __future__ import annotations

from gankit.data.base import DataInfo, Dataset, Split
from gankit.data.batch import Batch
from gankit.data.sampler import BatchStream, InfiniteSampler, StreamingBatchStream, make_batch_stream


def build_dataset(cfg) -> Dataset:  # cfg: gankit.config.DataConfig
    """Build the dataset named by ``cfg.name`` (see ``gankit.registry.DATASETS``).

    ``cfg.labels = N`` keeps the labels of only N training samples (:func:`gankit.data.base.keep_labels`)."""
    from gankit import plugins  # noqa: F401  (fills the registries)
    from gankit.data.base import keep_labels
    from gankit.registry import DATASETS

    dataset = DATASETS.get(cfg.name)(cfg)
    return dataset if cfg.labels is None else keep_labels(dataset, cfg.labels)


__all__ = ["Batch", "BatchStream", "DataInfo", "Dataset", "Split", "InfiniteSampler", "StreamingBatchStream",
           "build_dataset", "make_batch_stream"]
