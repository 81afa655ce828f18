"""SpliceAI delta scores (spliceai 1.3.1 ``get_delta_scores``, Jaganathan et al. 2019).

Deltas from the batched, windowed scorer equal a direct computation from two runs of
the model over the whole (gene-masked) chromosome, reference and alternative, for SNVs,
insertions and deletions on both strands, near gene and chromosome edges. VCF handling
writes every line and reports each unscored record. One test runs the official
ensemble on the designed exon of ``tests/fixtures/spliceai_official.npz``.
"""

import gzip
import subprocess
import sys

import flax.linen as nn
import jax
import numpy as np
import pytest

from conftest import REPO, fixture_path, subprocess_env
from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation
from genereg_jax.models import spliceai
from genereg_jax.variants import spliceai_scoring as ss

DISTANCE = 20
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")

# chrS (1-based): PLUS gene 5..1500 with exons, MINUS gene 1200..2600 (overlapping),
# chrT holds no gene.
TRANSCRIPTS = [
    gene_annotation.Transcript("PLUS", "PLUS", "PLUS", "chrS", "+", 4, 1500,
                               ((4, 300), (600, 720), (1000, 1500))),
    gene_annotation.Transcript("MINUS", "MINUS", "MINUS", "chrS", "-", 1199, 2600,
                               ((1199, 1400), (1800, 1950), (2300, 2600))),
]


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
  root = tmp_path_factory.mktemp("genome")
  rng = np.random.default_rng(0)
  chroms = {"chrS": "".join(rng.choice(list("ACGT"), 2700)),
            "chrT": "".join(rng.choice(list("ACGT"), 500))}
  with open(root / "genome.fa", "w") as f:
    for name, seq in chroms.items():
      f.write(f">{name}\n" + "".join(seq[i:i + 70] + "\n" for i in range(0, len(seq), 70)))
  return root / "genome.fa", chroms


@pytest.fixture(scope="module")
def tiny_model():
  model = spliceai.SpliceAI(**spliceai.PRESETS["tiny"])
  variables = nn.meta.unbox(model.init(jax.random.key(3), np.zeros((1, 64, 4))))
  # Random BatchNorm statistics and a sharper head make the outputs position-specific.
  rng = np.random.default_rng(1)
  noisy = lambda x: x * (1 + 0.5 * rng.standard_normal(x.shape)) + 0.1 * rng.standard_normal(
      x.shape)
  variables = jax.tree.map(noisy, variables)
  for unit in variables["batch_stats"].values():
    for statistics in unit.values():
      statistics["var"] = np.abs(statistics["var"]) + 0.1
  variables["params"]["head"]["kernel"] = variables["params"]["head"]["kernel"] * 4
  return model, variables


def _scorer(genome, tiny_model, **kwargs):
  model, variables = tiny_model
  return ss.SpliceAIScorer(ss.Predictor(model, variables), model.context,
                           gene_annotation.Genome(genome[0]), ss.GeneIndex(TRANSCRIPTS),
                           **{"distance": DISTANCE, "batch_size": 4, **kwargs})


def _direct(model, variables, chrom, transcript, pos, ref, alt):
  """Deltas from whole-chromosome runs of the model (ref and alt), in genomic order."""
  masked = ("N" * transcript.tx_start + chrom[transcript.tx_start:transcript.tx_end]
            + "N" * (len(chrom) - transcript.tx_end))
  assert masked[pos - 1:pos - 1 + len(ref)] == ref
  alternative = masked[:pos - 1] + alt + masked[pos - 1 + len(ref):]
  half = model.context // 2

  def run(sequence):
    x = encoding.one_hot_dna("N" * half + sequence + "N" * half)
    if transcript.strand == "-":
      x = encoding.reverse_complement(x)
    y = np.asarray(model.apply(variables, x[None].astype(np.float32)))[0]
    return y[::-1] if transcript.strand == "-" else y  # y[i]: chromosome base i + 1.

  y_ref, y_alt = run(masked), run(alternative)
  shift = len(alt) - len(ref)
  window = range(pos - DISTANCE, pos + DISTANCE + 1)
  ref_rows = np.stack([y_ref[q - 1] for q in window])
  alt_rows = []
  for q in window:
    if q < pos or (q == pos and len(alt) == 1):
      alt_rows.append(y_alt[q - 1])
    elif q == pos:  # Insertion: the strongest of the inserted bases.
      alt_rows.append(y_alt[pos - 1:pos - 1 + len(alt)].max(0))
    elif shift < 0 and q <= pos - shift:  # Deleted base.
      alt_rows.append(np.zeros(3))
    else:
      alt_rows.append(y_alt[q - 1 + shift])
  alt_rows = np.stack(alt_rows)
  scores, positions = [], []
  for channel in (1, 2):
    for difference in (alt_rows[:, channel] - ref_rows[:, channel],
                       ref_rows[:, channel] - alt_rows[:, channel]):
      scores.append(difference.max())
      positions.append(int(np.argmax(difference)) - DISTANCE)
  return np.array(scores), np.array(positions)


CASES = [
    # (pos, ref, alt) on chrS, 1-based.
    (650, None, "snv"),            # PLUS exon 2.
    (301, None, "ins"),            # PLUS, first intron base.
    (700, None, "del"),            # PLUS exon 2 end.
    (12, None, "snv"),             # Near the chromosome and gene start.
    (1300, None, "snv"),           # PLUS and MINUS overlap.
    (1350, None, "del"),
    (1900, None, "ins"),           # MINUS only.
    (2590, None, "del"),           # Near the MINUS gene end.
]


def _variant(chrom, pos, kind):
  ref_base = chrom[pos - 1]
  other = "ACGT"[("ACGT".index(ref_base) + 1) % 4]
  if kind == "snv":
    return ref_base, other
  if kind == "ins":
    return ref_base, ref_base + "TAG"
  return chrom[pos - 1:pos + 3], ref_base


def test_deltas_match_whole_chromosome_runs(genome, tiny_model):
  _, chroms = genome
  model, variables = tiny_model
  scorer = _scorer(genome, tiny_model)
  results = []
  for line, (pos, _, kind) in enumerate(CASES, start=1):
    ref, alt = _variant(chroms["chrS"], pos, kind)
    results.append(ss.parse_record(f"chrS\t{pos}\t.\t{ref}\t{alt},A\t.\t.\t.", line))
  scorer.score(results)
  worst, compared = 0.0, 0
  for result, (pos, _, _) in zip(results, CASES):
    assert not [i for i in result.issues if i.severity == "warning"], result.issues
    genes = [t for t in TRANSCRIPTS if t.tx_start < pos <= t.tx_end]
    alts = [a for a in result.variant.alts
            if not (len(a) > 1 and len(result.variant.ref) > 1)]
    assert [e.gene for e in result.entries] == [
        t.gene_name for a in result.variant.alts for t in genes]
    for entry in result.entries:
      if entry.scores is None:
        assert entry.info() == f"{entry.allele}|{entry.gene}|.|.|.|.|.|.|.|."
        continue
      transcript = next(t for t in genes if t.gene_name == entry.gene)
      scores, positions = _direct(model, variables, chroms["chrS"], transcript, pos,
                                  result.variant.ref, entry.allele)
      np.testing.assert_array_equal(entry.positions, positions)
      worst = max(worst, float(np.abs(entry.scores - scores).max()))
      compared += 1
    assert alts
  assert compared == 20
  assert worst < 5e-6, worst
  # Random weights still give deltas well above the tolerance.
  assert max(np.abs(e.scores).max() for r in results for e in r.entries
             if e.scores is not None) > 0.05


def test_alignment_and_masking():
  y_alt = np.arange(2 * 7 * 3, dtype=np.float32).reshape(14, 3)[:9]  # d = 3, del 3.
  aligned = ss.align_alt_predictions(y_alt[:4], ref_len=4, alt_len=1, distance=1)
  np.testing.assert_array_equal(aligned, np.concatenate([y_alt[:2], np.zeros((3, 3)),
                                                         y_alt[2:4]]))
  inserted = ss.align_alt_predictions(y_alt, ref_len=1, alt_len=3, distance=3)
  np.testing.assert_array_equal(inserted, np.concatenate(
      [y_alt[:3], y_alt[3:6].max(0, keepdims=True), y_alt[6:]]))

  y_ref = np.zeros((7, 3), np.float32)
  y_alt = np.zeros((7, 3), np.float32)
  y_alt[5, 1] = 0.8   # Acceptor gain at +2.
  y_ref[1, 1] = 0.6   # Acceptor loss at -2.
  y_alt[4, 2] = 0.3   # Donor gain at +1.
  y_ref[3, 2] = 0.4   # Donor loss at 0.
  scores, positions = ss.delta_scores(y_ref, y_alt, 1, 1, 3, 2, mask=False)
  np.testing.assert_allclose(scores, [0.8, 0.6, 0.3, 0.4], atol=1e-7)
  np.testing.assert_array_equal(positions, [2, -2, 1, 0])
  # Boundary at +2: the gain there is annotated (masked), losses elsewhere are not.
  masked, _ = ss.delta_scores(y_ref, y_alt, 1, 1, 3, 2, mask=True)
  np.testing.assert_allclose(masked, [0.0, 0.0, 0.3, 0.0], atol=1e-7)
  # Boundary at -2: the acceptor loss there is kept, the gains elsewhere kept.
  masked, _ = ss.delta_scores(y_ref, y_alt, 1, 1, 3, -2, mask=True)
  np.testing.assert_allclose(masked, [0.8, 0.6, 0.3, 0.0], atol=1e-7)
  entry = ss.GeneScore("T", "G1", np.array([0.123, 0.0, -0.0, 0.999]), np.array([2, -2, 1, 0]))
  assert entry.info() == "T|G1|0.12|0.00|-0.00|1.00|2|-2|1|0"

  plus = TRANSCRIPTS[0]
  # Boundaries (1-based): 5, 300, 601, 720, 1001, 1500.
  assert ss.nearest_exon_boundary(plus, 310) == -10
  assert ss.nearest_exon_boundary(plus, 450) == -150
  assert ss.nearest_exon_boundary(plus, 660) == -59


def _write_vcf(path, records):
  header = ["##fileformat=VCFv4.2", "##contig=<ID=chrS,length=2700>",
            '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
  text = "\n".join(header + records) + "\n"
  if str(path).endswith(".gz"):
    with gzip.open(path, "wt") as f:
      f.write(text)
  else:
    path.write_text(text)


def test_vcf_lines_issues_and_bgzf(genome, tiny_model, tmp_path):
  _, chroms = genome
  s = chroms["chrS"]
  records = [  # Line numbers in the file: 4 header lines first.
      f"chrS\t650\trs1\t{s[649]}\tT,C\t50\tPASS\tDP=10",           # 5: two ALTs
      "chrS\t651\t.\tA\tG\t.\t.",                                  # 6: 7 columns
      f"chrS\tabc\t.\t{s[649]}\tT\t.\t.\t.",                       # 7: bad POS
      f"chrS\t660\t.\t{'A' if s[659] != 'A' else 'C'}\tG\t.\t.\t.",  # 8: REF mismatch
      "chrZ\t10\t.\tA\tG\t.\t.\t.",                                # 9: unknown chromosome
      f"chrT\t10\t.\t{chroms['chrT'][9]}\tG\t.\t.\t.",             # 10: outside genes
      f"S\t1900\t.\t{s[1899]}\t<DEL>,*\t.\t.\t.",                  # 11: symbolic; no "chr"
      "",                                                          # 12: blank line kept
      f"chrS\t800\t.\t{s[799:801]}\tGT\t.\t.\tSpliceAI=old",       # 13: complex -> dots
      f"chrS\t1300\t.\t{s[1299].lower()}\tN\t.\t.\t.",             # 14: two genes
  ]
  vcf = tmp_path / "in.vcf.gz"
  _write_vcf(vcf, records)
  out = tmp_path / "out.vcf.gz"
  issues = []
  counts = ss.score_vcf(_scorer(genome, tiny_model), vcf, out, chunk_records=3,
                        on_issue=lambda issue, record: issues.append(issue))
  raw = out.read_bytes()
  assert raw[12:16] == b"BC\x02\x00" and raw.endswith(ss.BgzfWriter._EOF)
  lines = gzip.decompress(raw).decode().split("\n")[:-1]
  assert lines[:3] == ["##fileformat=VCFv4.2", "##contig=<ID=chrS,length=2700>",
                       '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">']
  assert lines[3] == ss.INFO_HEADER and lines[4].startswith("#CHROM")
  body = lines[5:]
  assert len(body) == len(records)
  for index in (1, 2, 3, 4, 5, 6, 7):
    assert body[index] == records[index]
  first = body[0].split("\t")
  assert first[:7] == records[0].split("\t")[:7]
  assert first[7].startswith("DP=10;SpliceAI=T|PLUS|") and ",C|PLUS|" in first[7]
  assert len(first[7].split("|")) == 19
  assert body[8].endswith("\tSpliceAI=GT|PLUS|.|.|.|.|.|.|.|.")
  entries = body[9].split("\t")[7].split("SpliceAI=")[1].split(",")
  assert [e.split("|")[:2] for e in entries] == [["N", "PLUS"], ["N", "MINUS"]]
  assert counts == dict(records=9, scored=3, entries=5, warnings=4, info=4)

  reasons = {(i.line_number, i.severity): i.reason for i in issues}
  assert "7 tab-separated columns" in reasons[(6, "warning")]
  assert "POS 'abc'" in reasons[(7, "warning")]
  assert "reference mismatch at chrS:660" in reasons[(8, "warning")]
  assert "unknown chromosome chrZ" in reasons[(9, "warning")]
  assert "outside every annotated gene" in reasons[(10, "info")]
  assert [i.allele for i in issues if i.line_number == 11] == ["<DEL>", "*"]
  assert "both longer than 1 nt" in reasons[(13, "info")]


def test_bad_header_names_the_file(genome, tiny_model, tmp_path):
  vcf = tmp_path / "bad.vcf"
  vcf.write_text("chrS\t10\t.\tA\tG\t.\t.\t.\n")
  with pytest.raises(ss.VcfFormatError, match=r"bad\.vcf:1: expected a ## meta line"):
    ss.score_vcf(_scorer(genome, tiny_model), vcf, tmp_path / "out.vcf")


def _official_weights():
  # A missing package fails (its message has the install command): never a skip.
  try:
    return spliceai.load_official_weights(None)
  except FileNotFoundError as e:
    pytest.fail(str(e), pytrace=False)


def test_command_line_writes_every_line(genome, tmp_path):
  """The entry point end to end on records that need no model run (fast)."""
  _official_weights()
  fasta, chroms = genome
  annotation = tmp_path / "genes.txt"
  annotation.write_text(
      "#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n"
      "PLUS\tS\t+\t4\t1500\t4,600,1000,\t300,720,1500,\n")
  s = chroms["chrS"]
  records = [f"chrS\t800\t.\t{s[799:801]}\tGT\t.\t.\t.", f"chrS\t5\t.\t{s[4:6]}\t.\t.\t.\t.",
             f"chrS\t1600\t.\t{s[1599]}\tA\t.\t.\t."]
  vcf = tmp_path / "in.vcf"
  _write_vcf(vcf, records)
  out = tmp_path / "out.vcf"
  run = subprocess.run(
      [sys.executable, "-m", "experiments.score_variants", "--config=spliceai_10k",
       f"--vcf={vcf}", f"--fasta={fasta}", f"--annotation={annotation}", f"--out={out}",
       "--distance", "40", "--mask", "1"],
      cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120)
  assert run.returncode == 0, run.stderr[-3000:]
  body = [l for l in out.read_text().splitlines() if not l.startswith("#")]
  assert body[0].endswith("SpliceAI=GT|PLUS|.|.|.|.|.|.|.|.")
  assert body[1:] == records[1:]
  assert "1 of 3 records scored" in run.stdout
  log = (tmp_path / "out.vcf.issues.tsv").read_text().splitlines()
  assert log[0].split("\t")[0] == "line" and len(log) == 4
  assert "variant" in run.stderr  # tqdm's rate unit.


def test_official_ensemble_on_the_designed_exon(tmp_path):
  """A donor +2 T>A in the fixture's designed exon: donor loss; REF probabilities equal
  the official Keras ensemble's."""
  variables = _official_weights()
  fixture = np.load(fixture_path("spliceai_official.npz"))
  sequence = encoding.decode_dna(fixture["x"][2])
  (tmp_path / "exon.fa").write_text(">chrE\n" + sequence + "\n")
  donor = 7567  # 0-based last exon base (fixture README).
  transcript = gene_annotation.Transcript(
      "EXON", "EXON", "EXON", "chrE", "+", 0, len(sequence),
      ((0, 7448 - 300), (7448, donor + 1), (donor + 400, len(sequence))))
  pos = donor + 3  # 1-based position of intron base +2, the T of GT.
  assert sequence[donor + 1:donor + 3] == "GT"
  distance = 8
  scorer = ss.SpliceAIScorer(ss.Predictor(spliceai.SpliceAIEnsemble(), variables), 10000,
                             gene_annotation.Genome(tmp_path / "exon.fa"),
                             ss.GeneIndex([transcript]), distance=distance, batch_size=2)
  original = scorer.batched.predict
  captured = []
  scorer.batched.predict = lambda x: captured.append(original(x)) or captured[-1]
  result = ss.parse_record(f"chrE\t{pos}\t.\tT\tA\t.\t.\t.", 1)
  scorer.score([result])
  (entry,) = result.entries
  # REF window = fixture input [pos - 1 - 5008, pos + 5008): its outputs are the
  # fixture's output positions pos - 1 - 5000 - 8 ... pos - 1 - 5000 + 8.
  y_ref = np.asarray(captured[0])[0]
  expected = fixture["y_mean"][2][pos - 1 - 5000 - distance:pos - 1 - 5000 + distance + 1]
  np.testing.assert_allclose(y_ref, expected, atol=1e-6)
  ds_dl, dp_dl = entry.scores[3], entry.positions[3]
  assert dp_dl == -2 and ds_dl > 0.9, entry.info()
  assert entry.info().startswith("A|EXON|")
