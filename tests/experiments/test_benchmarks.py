"""Benchmark machinery: the torch side imports without JAX, timing statistics, load
gating, FLOP counts and the report's tables, all on fake timings (nothing is timed)."""

import json
import subprocess
import sys

import pytest

from conftest import REPO, subprocess_env
from experiments.benchmarks import jax_steps
from experiments.benchmarks import reference_compare
from experiments.benchmarks import report
from experiments.benchmarks import spliceai_scoring
from experiments.benchmarks import timing

BLOCK = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path=None, target=None):
    if name.split('.')[0] in ('jax', 'jaxlib', 'flax', 'genereg_jax', 'torch'):
      raise ImportError('blocked: ' + name)

sys.meta_path.insert(0, Block())
try:
  import jax
except ImportError:
  pass
else:
  raise SystemExit('the blocker does not block')
"""


@pytest.mark.parametrize("module", ["reference_torch", "spliceai_side", "report"])
def test_other_framework_sides_import_without_jax_flax_or_genereg_jax(module):
  # reference_torch runs in the torch venv and spliceai_side's official sides in the
  # TensorFlow venv: neither has JAX, flax or genereg_jax. The drivers (report) touch
  # JAX only through their children.
  code = BLOCK + f"import experiments.benchmarks.{module}\nprint('imported')"
  done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=subprocess_env(),
                        capture_output=True, text=True, timeout=120)
  assert done.returncode == 0, done.stderr[-2000:]
  assert done.stdout.strip() == "imported"


def test_blocked_jax_side_fails_to_import():
  # The same blocker does stop a module that needs JAX (so the test above can fail).
  code = BLOCK + "from experiments.benchmarks import reference_jax\nreference_jax.run('deepsea')"
  done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=subprocess_env(),
                        capture_output=True, text=True, timeout=120)
  assert done.returncode != 0 and "blocked" in done.stderr


def test_summarize_median_and_iqr():
  s = timing.summarize([4.0, 1.0, 3.0, 2.0, 100.0])
  assert s["median_s"] == 3.0 and s["q1_s"] == 2.0 and s["q3_s"] == 4.0
  assert s["iqr_s"] == 2.0 and s["mean_s"] == 22.0 and s["n"] == 5
  with pytest.raises(ValueError):
    timing.summarize([])


def test_warm_up_until_two_medians_agree(monkeypatch):
  window_times = iter([[9, 10, 11], [5, 5, 6], [4, 4, 4], [3.9, 3.9, 3.9], [1, 1, 1]])
  monkeypatch.setattr(timing, "time_steps", lambda step, sync, n: next(window_times))
  warm = timing.warm_up(None, None, window=3, tolerance=0.05, max_steps=30)
  assert warm == {"steps": 12, "steady": True,
                  "window_medians_s": [10.0, 5.0, 4.0, 3.9]}


def test_warm_up_is_capped(monkeypatch):
  medians = iter(range(100, 0, -10))
  monkeypatch.setattr(timing, "time_steps", lambda step, sync, n: [next(medians)] * n)
  warm = timing.warm_up(None, None, window=3, max_steps=10)
  assert warm["steps"] == 9 and not warm["steady"]


def test_wait_for_quiet_is_bounded():
  loads = iter([5.0, 4.0, 1.0])
  slept = []
  quiet = timing.wait_for_quiet(100, threshold=2, poll_s=10, loadavg=lambda: (next(loads),),
                                sleep=slept.append)
  assert quiet == {"waited_s": 20.0, "load": 1.0, "quiet": True} and slept == [10, 10]
  busy = timing.wait_for_quiet(25, threshold=2, poll_s=10, loadavg=lambda: (5.0,),
                               sleep=lambda s: None)
  assert busy == {"waited_s": 25.0, "load": 5.0, "quiet": False}


def _fake_runner(stdout, returncode=0):
  def runner(command, **kwargs):
    return subprocess.CompletedProcess(command, returncode, stdout, "boom\n")
  return runner


def test_run_child_records_load_and_flags_loaded(monkeypatch):
  monkeypatch.setattr(timing, "cores", lambda: 2)

  def run(loads, machine=(100.0, 110.0), children=(5.0, 14.8), code=0, out='noise\n{"a": 1}\n'):
    loads, machine, children, clock = iter(loads), iter(machine), iter(children), iter((0., 10.))
    return timing.run_child(["x"], loadavg=lambda: next(loads), sleep=lambda s: None,
                            max_wait_s=0, runner=_fake_runner(out, returncode=code),
                            machine_cpu=lambda: next(machine),
                            children_cpu=lambda: next(children), clock=lambda: next(clock))

  # wait, before, after: the child itself raised the 1-minute load to 2.5 while other
  # processes used 0.2 CPU s in 10 s (0.02 cores): quiet.
  row = run([(1.0, 1, 1), (1.5, 1, 1), (2.5, 2, 1)])
  assert row["a"] == 1 and row["load_before"] == (1.5, 1, 1)
  assert row["load_after"] == (2.5, 2, 1) and row["other_cores"] == 0.02
  assert row["loaded"] is False and row["process_wall_s"] == 10.0
  # Others kept a whole core busy (10 s of machine CPU, the child used none): loaded.
  assert run([(0.5,)] * 3, children=(5.0, 5.0))["loaded"] is True
  assert run([(0.5,)] * 3, children=(5.0, 5.0))["other_cores"] == 1.0
  # Loaded before the start, failed child: flagged, error kept.
  failed = run([(3.0,)] * 3, code=3, out="{}")
  assert failed["error"].startswith("exit 3") and failed["loaded"] is True
  # Without /proc/stat the load after the child decides.
  assert run([(0.5,), (0.5,), (2.5,)], machine=(None, None))["loaded"] is True
  assert run([(0.5,)] * 3, machine=(None, None))["other_cores"] is None


def test_round_orders_alternate_and_ratios_per_round():
  assert timing.round_orders(("a", "b"), 3) == [("a", "b"), ("b", "a"), ("a", "b")]
  r = timing.round_ratios({0: 2.0, 1: 3.0, 2: 4.0}, {0: 1.0, 1: 1.0, 2: 1.0})
  assert r == {"median": 3.0, "per_round": [2.0, 3.0, 4.0]}


class _Compiled:
  def __init__(self, analysis):
    self.analysis = analysis

  def cost_analysis(self):
    return self.analysis


def test_compiled_flops_list_dict_and_real():
  assert jax_steps.compiled_flops(_Compiled([{"flops": 10.0}])) == 10.0
  assert jax_steps.compiled_flops(_Compiled({"flops": 7.0})) == 7.0
  assert jax_steps.compiled_flops(_Compiled([])) is None
  assert jax_steps.compiled_flops(_Compiled({})) is None
  import jax
  import jax.numpy as jnp
  x = jnp.ones((64, 32))
  compiled = jax.jit(jnp.matmul).lower(x, x.T).compile()
  assert jax_steps.compiled_flops(compiled) == pytest.approx(2 * 64 * 64 * 32, rel=0.01)
  assert jax_steps.mfu(1e9, 0.5, 4e9) == 0.5 and jax_steps.mfu(None, 1.0, 1.0) is None


def _side_result(side, median, flops=None):
  samples = [median * f for f in (0.9, 1.0, 1.0, 1.1)]
  result = {"implementation": side, "parameters": 10, "batch_size": 4,
            "train_compile_s": 1.0, "peak_rss_mb": 100.0}
  for what, scale in (("train", 1.0), ("inference", 0.25)):
    m = timing.summarize([s * scale for s in samples])
    m["examples_per_s"] = 4 / m["median_s"]
    if flops:
      m["flops"] = flops * scale
      m["mfu"] = m["flops"] / m["median_s"] / 1e10
    result[what] = m
  if flops:
    result["matmul_peak"] = {"flops_per_s": 1e10}
  return result


def _fake_run(loads):
  """A ``timing.run_child`` stand-in: canned side results, given load averages."""
  calls = []

  def run(command, **kwargs):
    calls.append(command)
    text = " ".join(command)
    load = next(loads)
    if "reference_jax" in text:
      row = _side_result("jax", 1.0, flops=5e9)
    elif "reference_torch" in text:
      row = _side_result("torch", 2.0 if len(calls) <= 2 else 3.0)
    else:
      row = {**_side_result("jax", 1.0, flops=1e9), "train_compile_s": 2.0,
             "inference_compile_s": 0.5}
    row.update(load_before=(load, 0, 0), load_after=(load, 0, 0), loaded=load >= 2)
    return row

  return run, calls


def test_report_tables_from_fake_timings(tmp_path, monkeypatch):
  loads = iter([0.5, 3.0, 0.5, 0.5] + [0.5] * 100)
  run, calls = _fake_run(loads)
  args = report.parser().parse_args(["--out", str(tmp_path), "--rounds=2"])
  args.parts = ["reference", "train_step"]
  monkeypatch.setattr(reference_compare.inputs, "MODELS", ("deepsea",))
  monkeypatch.setattr(report.reference_inputs, "MODELS", ("deepsea",))
  result = report.run_report(args, run=run, log=lambda line: None)

  rows = result["reference"]["rows"]
  # Round 0 runs JAX first, round 1 the reference first.
  assert [(r["round"], r["side"]) for r in rows] == [(0, "jax"), (0, "torch"),
                                                      (1, "torch"), (1, "jax")]
  assert [r["loaded"] for r in rows] == [False, True, False, False]
  assert all(len(r["load_before"]) == 3 and "load_after" in r for r in rows)
  summary = result["reference"]["models"]["deepsea"]
  assert summary["train_ratio"] == {"median": 2.5, "per_round": [2.0, 3.0]}
  assert summary["loaded_rows"] == 1
  # The reference's MFU uses the JAX step's FLOPs and the JAX process's peak.
  torch_round0 = rows[1]
  assert torch_round0["train"]["mfu"] == pytest.approx(5e9 / 2.0 / 1e10)
  assert summary["jax_train_mfu"] == pytest.approx(0.5)

  steps = result["train_step"]
  assert len(steps) == len(report.TRAIN_STEP_CONFIGS)
  assert {r["config"] for r in steps} >= {"deepsea", "enformer_human_mouse:synthetic"}

  json_path, md_path = report.write(str(tmp_path), result)
  assert json.load(open(json_path))["reference"]["models"]["deepsea"]["loaded_rows"] == 1
  text = open(md_path).read()
  assert "**loaded**" in text and "2.50× [2.00, 3.00]" in text
  assert "| deepsea | torch | 0 | 2.00 (2.000 s, IQR 0.100) |" in text
  # 4 reference rows + one train_step row per config that has a timed variant.
  timed = sum(v[0] is not None for v in report.TRAIN_STEP_CONFIGS.values())
  assert f"1 of {4 + timed} processes ran loaded" in text
  assert "| bpnet_mesc | skipped: real mESC data only" in text
  assert not list(tmp_path.glob(".*.partial"))


def test_every_config_has_a_train_step_row():
  from experiments import configs
  assert set(report.TRAIN_STEP_CONFIGS) == set(configs.available_configs())


def test_spliceai_driver_without_official_cli(tmp_path):
  loads = iter([0.1] * 50)
  rows = []

  def run(command, **kwargs):
    rows.append(command)
    if "spliceai_side" in " ".join(command):
      return {"batch": {"1": {"ensemble_windows_per_s": 2.0, "median_s": 0.5,
                              "iqr_s": 0.1}},
              "load_before": (next(loads),), "load_after": (0.1,), "loaded": False}
    return {"process_wall_s": 10.0 if "one.vcf" in " ".join(command) else 30.0,
            "load_before": (next(loads),), "load_after": (0.1,), "loaded": False}

  args = spliceai_scoring.parser().parse_args([
      "--variants=12", f"--workdir={tmp_path}", "--official_cli=/nonexistent",
      "--rounds=2", "--model_batch_sizes=1", "--model_reps=2"])
  s = spliceai_scoring.compare(args, run=run, log=lambda line: None)
  assert s["sides"] == ["ours"] and len(s["rounds"]) == 2
  assert s["ours"]["variants_per_s"] == pytest.approx(12 / 30.0)
  assert s["ours"]["steady_variants_per_s"] == pytest.approx(11 / 20.0)
  assert set(s["compile_cache"]) == {"cold", "warm"}
  assert s["model_only"]["ours"]["batch"]["1"]["ensemble_windows_per_s"] == 2.0
  # 2 rounds x 2 runs + cold/warm cache + model only = 7 processes, all load-recorded.
  assert len(rows) == 7 and s["loaded_runs"] == 0
  assert "| 0 | ours | 10.0 | 30.0 | 0.400 | 0.550 |" in "\n".join(
      report.spliceai_markdown(s))


def test_profile_attributes_instructions_to_model_parts():
  import flax.linen as nn
  import jax
  import jax.numpy as jnp
  from experiments.benchmarks import profile_step
  from genereg_jax.nn import attention

  class Tiny(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = attention.AttentionPool1D(pool_size=2)(x)
      return nn.gelu(nn.Dense(6)(x)).sum()

  x = jnp.ones((1, 8, 6))
  params = Tiny().init(jax.random.key(0), x)

  def step(params):
    grads = jax.grad(lambda p: Tiny().apply(p, x))(params)
    return jax.tree.map(lambda p, g: p - 0.1 * g * g, params, grads)

  text = jax.jit(step).lower(params).compile().as_text()
  modules = {profile_step.module_of(op) for op in
             profile_step._instruction_op_names(text).values()}
  assert {"AttentionPool1D_N [forward]", "AttentionPool1D_N [backward]",
          "optimizer, gradient norm, metrics"} <= modules, modules
  assert profile_step.module_of("jit(s)/jvp(Enformer)/transformer_3/attention/Dropout_1/"
                                "mul") == "transformer_N/attention [forward]"
  assert profile_step.module_of("jit(s)/transpose(jvp(Enformer))/conv_tower_2/pool/"
                                "blc,cd->bld/dot_general") == "conv_tower_N/pool [backward]"
  assert profile_step.part_of("conv_tower_N/pool [backward]") == "attention pooling"
  assert profile_step.part_of("stem_pool [forward]") == "attention pooling"
  assert profile_step.part_of("transformer_N/attention [forward]") == (
      "relative-position attention")
  assert profile_step.module_of("") == "copies / layout (no op_name)"
  assert profile_step.kind_of("ynn_fusion.12").startswith("dot / convolution")
  assert profile_step.kind_of("transpose_copy_fusion.3") == "layout (transpose / copy)"
