"""SNV scoring through receptive-cone reuse (`scoring.ConeSubstitutions`) equals whole
windows, on the BPNet of tests/fixtures/bpnet_lite_small.npz.

The same VCF (single-SNV records, a multi-ALT record and an indel, which take the whole-
window path) is scored by a predictor with ``predict_snvs`` and one without; every score
must agree within 1e-5 and the cone predictor must have taken the SNV path.
"""

import jax
import numpy as np

from conftest import fixture_path
from genereg_jax.data import genome as genome_lib
from genereg_jax.models import bpnet as bpnet_lib
from genereg_jax.variants import scoring
from genereg_jax.variants import vcf


def _outputs(out):
  return {"profile_probs": jax.nn.softmax(out["profile_logits"], axis=1),
          "log_counts": out["log_counts"]}


def test_cone_snvs_equal_whole_windows(tmp_path):
  model, params = bpnet_lib.load_bpnet_lite(fixture_path("bpnet_lite_small.npz"),
                                            prefix="bpnet/sd/")
  length = 2114
  whole = jax.jit(lambda x: _outputs(model.apply({"params": params},
                                                 x.astype(np.float32))))
  snvs = scoring.ConeSubstitutions(bpnet_lib.cone_model(model, params), _outputs)

  class Plain:
    input_length, data_devices = length, 1

    def __call__(self, one_hot):
      return {k: np.asarray(v) for k, v in whole(one_hot).items()}

  class Cone(Plain):
    calls = 0

    def predict_snvs(self, x, position, value):
      Cone.calls += 1
      return snvs(x, position, value)

  rng = np.random.default_rng(3)
  chrom = "".join(rng.choice(list("ACGT"), 3 * length))
  (tmp_path / "g.fa").write_text(f">chr1\n{chrom}\n")
  other = lambda b, k=1: "ACGT"[("ACGT".index(b) + k) % 4]
  rows = [(p, chrom[p - 1], other(chrom[p - 1], 1 + p % 3))
          for p in range(length, length + 60, 7)]
  rows.append((length + 100, chrom[length + 99], f"{other(chrom[length + 99])},"
               f"{other(chrom[length + 99], 2)}"))  # Two ALTs: whole windows.
  rows.append((length + 200, chrom[length + 199:length + 202], chrom[length + 199]))
  lines = [f"chr1\t{p}\tv{i}\t{r}\t{a}\t.\t.\t.\n" for i, (p, r, a) in enumerate(rows)]
  records = list(vcf.records(iter(enumerate(lines, 3))))
  with genome_lib.Genome(tmp_path / "g.fa") as genome:
    got, issues = scoring.Scorer(Cone(), genome, ["log_count_diff", "JSD"],
                                 batch_size=4).score_records(records)
    want, _ = scoring.Scorer(Plain(), genome, ["log_count_diff", "JSD"],
                             batch_size=4).score_records(records)
  assert issues == [] and Cone.calls > 0
  assert [r.ids for r in got] == [r.ids for r in want] and len(got) == len(rows) + 1
  for a, b in zip(got, want):
    assert a.scores.keys() == b.scores.keys()
    for key in a.scores:
      np.testing.assert_allclose(a.scores[key], b.scores[key], atol=1e-5, rtol=1e-5)
  assert max(np.abs(r.scores[("log_counts", "log_count_diff")]).max() for r in got) > 1e-4
