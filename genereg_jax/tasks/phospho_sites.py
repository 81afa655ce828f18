"""Phosphosite tasks of DeepPhos (Luo et al. 2019): `ptm_sites` on chosen label columns.

DeepPhos trains one model per residue class and one per kinase from the same windows
(``uniprot_ptm`` / ``synthetic_proteins`` records: ``label [T]`` over PTM types,
``label_mask [T]``, ``kinase [K]``). This task picks the columns a model predicts and
hands `ptm_sites.PTMSites` (loss and metrics unchanged) the picked ``label`` and
``label_mask``:

* ``site_types=("phospho_ST",)``: the residue-specific S/T model (``phospho_Y`` for Y;
  both, or none given, for the general model: one output per type);
* ``kinases=("PKA",)`` with ``kinase_residues="phospho_ST"``: a kinase-specific model.
  Positives are the sites annotated for the kinase, negatives every other candidate of
  its residue class (the paper's: S/T sites not known for that kinase), so the mask is
  that class's ``label_mask`` column.

Names are resolved to columns from the dataset's ``ptm_types`` / ``kinases`` metadata.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import ptm_sites


def _columns(wanted: Sequence[str], names: Sequence[str], what: str) -> tuple[int, ...]:
  missing = [w for w in wanted if w not in names]
  if missing:
    raise ValueError(f"phospho_sites: {what} {missing} are not in the dataset's "
                     f"{list(names)}")
  return tuple(list(names).index(w) for w in wanted)


class PhosphoSites(ptm_sites.PTMSites):
  """`ptm_sites.PTMSites` on the configured site-type or kinase columns.

  Args:
    site_types: PTM type columns to predict (default: all of them).
    kinases: kinase columns to predict instead (a kinase-specific model).
    kinase_residues: the PTM type whose ``label_mask`` defines the kinases' candidates.
    loss: as `ptm_sites.PTMSites`.
  """

  def __init__(self, site_types: Sequence[str] = (), kinases: Sequence[str] = (),
               kinase_residues: str = "phospho_ST", loss: str = "bce"):
    if site_types and kinases:
      raise ValueError("phospho_sites: give site_types or kinases, not both")
    super().__init__(loss=loss, ptm_types=tuple(kinases or site_types))
    self.site_types = tuple(site_types)
    self.kinases = tuple(kinases)
    self.kinase_residues = kinase_residues
    self.source = "kinase" if kinases else "label"
    self.target_keys = tuple(dict.fromkeys((self.source, "label", "label_mask")))
    self.label_key = "label"
    self.columns: tuple[int, ...] | None = None
    self.mask_columns: tuple[int, ...] | None = None

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    types = tuple(metadata.get("ptm_types") or ())
    if self.kinases:
      self.columns = _columns(self.kinases, metadata.get("kinases") or (), "kinases")
      self.mask_columns = _columns([self.kinase_residues], types, "kinase_residues") * len(
          self.kinases)
    else:
      self.ptm_types = self.site_types or types
      self.columns = self.mask_columns = _columns(self.ptm_types, types, "site_types")

  def output_shape(self, target_shape):
    return (len(self.ptm_types),) if self.ptm_types else tuple(target_shape)

  def select(self, batch: base.Batch) -> dict[str, Any]:
    """The batch with ``label``/``label_mask`` cut to the configured columns."""
    if self.columns is None:  # No metadata: every column, as the data has them.
      return dict(batch, label=batch[self.source])
    index = np.asarray(self.columns)
    return dict(batch, label=batch[self.source][..., index],
                label_mask=batch["label_mask"][..., np.asarray(self.mask_columns)])

  def loss(self, outputs, batch):
    return super().loss(outputs, self.select(batch))

  def new_metrics(self) -> "_SelectedMetrics":
    return _SelectedMetrics(super().new_metrics(), self.select)


class _SelectedMetrics:
  """A `ptm_sites` accumulator fed the selected columns."""

  def __init__(self, inner, select):
    self.inner, self.select = inner, select

  def update(self, predictions, batch) -> None:
    self.inner.update(predictions, self.select(batch))

  def merge(self, other: "_SelectedMetrics") -> "_SelectedMetrics":
    self.inner.merge(other.inner)
    return self

  def compute(self) -> dict[str, Any]:
    return self.inner.compute()


Task = PhosphoSites
