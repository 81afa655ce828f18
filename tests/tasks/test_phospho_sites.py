"""phospho_sites: DeepPhos' residue- and kinase-specific columns fed to ptm_sites."""

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from genereg_jax import tasks

METADATA = {"ptm_types": ["phospho_ST", "phospho_Y"], "kinases": ["PKA", "CDK", "CK2", "SRC"]}


def _batch(rng, n=64):
  residue_st = rng.random(n) < 0.7
  label_mask = np.stack([residue_st, ~residue_st], -1).astype(np.float32)
  kinase = (rng.random((n, 4)) < 0.3).astype(np.float32)
  kinase[:, :3] *= residue_st[:, None]
  kinase[:, 3] *= ~residue_st
  label = np.stack([kinase[:, :3].max(-1), kinase[:, 3]], -1) * label_mask
  return {"label": label, "label_mask": label_mask, "kinase": kinase}


def test_residue_and_kinase_columns():
  rng = np.random.default_rng(0)
  batch = _batch(rng)
  plain = tasks.get_task("ptm_sites")

  st = tasks.get_task("phospho_sites", {"site_types": ("phospho_ST",)})
  st.use_dataset_metadata(METADATA)
  assert st.output_shape((2,)) == (1,) and set(st.target_keys) == {"label", "label_mask"}
  logits = jnp.asarray(rng.normal(size=(64, 1)).astype(np.float32))
  sliced = {"label": batch["label"][:, :1], "label_mask": batch["label_mask"][:, :1]}
  assert float(st.loss(logits, batch)[0]) == pytest.approx(float(plain.loss(logits, sliced)[0]))
  assert float(st.loss(logits, batch)[1]) == batch["label_mask"][:, 0].sum()

  general = tasks.get_task("phospho_sites")
  general.use_dataset_metadata(METADATA)
  assert general.output_shape((2,)) == (2,) and general.ptm_types == ("phospho_ST", "phospho_Y")

  pka = tasks.get_task("phospho_sites", {"kinases": ("PKA",)})
  pka.use_dataset_metadata(METADATA)
  assert "kinase" in pka.target_keys and pka.output_shape((2,)) == (1,)
  metrics = pka.new_metrics()
  scores = rng.random((64, 1))
  metrics.update(scores, batch)
  st_sites = batch["label_mask"][:, 0] > 0  # Negatives: every other S/T candidate.
  result = metrics.compute()
  assert result["auroc"] == pytest.approx(
      skm.roc_auc_score(batch["kinase"][st_sites, 0], scores[st_sites, 0]))

  with pytest.raises(ValueError, match="not in the dataset"):
    tasks.get_task("phospho_sites", {"kinases": ("MAPK",)}).use_dataset_metadata(METADATA)
  with pytest.raises(ValueError, match="not both"):
    tasks.get_task("phospho_sites", {"kinases": ("PKA",), "site_types": ("phospho_ST",)})
