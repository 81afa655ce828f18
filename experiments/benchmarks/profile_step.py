r"""Where the time of a compiled train step goes: per-op profile grouped by model part.

  python -m experiments.benchmarks.profile_step --model=enformer
  python -m experiments.benchmarks.profile_step --model=enformer --steps=3 --top=25

The step of ``reference_jax`` (the trainer's own jitted train step at the compared size)
runs ``--steps`` times under ``jax.profiler.trace``; the Perfetto trace's XLA thunk
events (one per fusion, convolution, dot ... of the compiled program) are summed per
HLO instruction and attributed to the JAX name stack recorded in the instruction's
metadata (the flax module path, ``transpose(jvp(...))`` for the backward pass), read
from the compiled HLO text. Printed, as milliseconds per step and a share of the thunk
time: by part (``PARTS``: attention pooling, relative-position attention, the
transformer's feed-forward, the convolution blocks, heads; the optimizer update and
copies outside the model), by kind of thunk (matmul, convolution, elementwise fusion,
layout copies) and by module path, then the top instructions.
Thunk times are summed over XLA's threads (concurrent thunks overlap, so the sum can
exceed the step's wall time); under load they stretch, but their shares stay
comparable.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import tempfile
import time

import numpy as np

from experiments.benchmarks import reference_inputs as inputs

# Module path -> part of the model, for the questions (first match wins).
PARTS = (
    ("attention pooling", r"(^|/|_)pool$"),
    ("relative-position attention", r"/attention$"),
    ("transformer feed-forward, norms, dropout", r"^transformer_N"),
    ("convolution blocks (BatchNorm, GELU, conv)", r"conv|pointwise"),
    ("heads / loss", r"^head|loss|^final"),
)


def _split_instruction(line: str) -> tuple[str, str] | None:
  """``(name, opcode)`` of an HLO instruction line, or None."""
  match = re.match(r"^\s*(?:ROOT\s+)?%(\S+)\s*=\s*(.*)$", line)
  if not match:
    return None
  rest = match.group(2)
  if rest.startswith("("):  # A tuple type: skip to its closing parenthesis.
    depth = 0
    for i, c in enumerate(rest):
      depth += (c == "(") - (c == ")")
      if depth == 0:
        rest = rest[i + 1:]
        break
  else:
    rest = rest.split(" ", 1)[1] if " " in rest else ""
  opcode = re.match(r"\s*([\w\-]+)\(", rest)
  return match.group(1), opcode.group(1) if opcode else ""


def _instruction_op_names(hlo_text: str) -> dict[str, str]:
  """HLO instruction name -> a representative op_name (for fusions and calls: the
  op_name of a dot or convolution inside if any, else the first named member)."""
  computations: dict[str, list[tuple[str, str, str, str | None]]] = {}
  current = None
  for line in hlo_text.splitlines():
    head = re.match(r"^(?:ENTRY\s+)?%(\S+)\s*\(", line)
    if head and line.rstrip().endswith("{"):
      current = head.group(1)
      computations[current] = []
      continue
    parsed = _split_instruction(line)
    if parsed and current is not None:
      op_name = re.search(r'op_name="([^"]*)"', line)
      calls = re.search(r"(?:calls|body|to_apply)=%([\w.\-]+)", line)
      computations[current].append((*parsed, op_name.group(1) if op_name else "",
                                    calls.group(1) if calls else None))
  names: dict[str, str] = {}
  for instructions in computations.values():
    for name, opcode, op_name, calls in instructions:
      if calls and calls in computations:
        members = computations[calls]
        heavy = [m[2] for m in members if m[1] in ("dot", "convolution") and m[2]]
        named = [m[2] for m in members if m[2]]
        op_name = heavy[0] if heavy else (named[0] if named else op_name)
      names[name] = op_name
  return names


def module_of(op_name: str) -> str:
  """The model part of an op_name: its module path two deep, tower indices as ``N``,
  with the pass (forward / backward); optimizer, metrics and copies outside it."""
  if not op_name:
    return "copies / layout (no op_name)"
  match = re.search(r"jvp\([^)]*\)\)?/(.*)", op_name)
  if "jvp(" not in op_name or not match:
    return "optimizer, gradient norm, metrics"
  # Drop jitted helpers' and methods' scopes ("Module_0._helper"): keep module names.
  path = [p for p in match.group(1).split("/")[:-1]
          if not p.startswith("jit(") and not re.fullmatch(r"\w+\.\w+", p)][:2]
  direction = "backward" if "transpose(" in op_name else "forward"
  return re.sub(r"_\d+", "_N", "/".join(path) or "(top)") + f" [{direction}]"


def part_of(module: str) -> str:
  """``PARTS`` entry of a ``module_of`` path (without the pass)."""
  path = module.split(" [")[0]
  for part, pattern in PARTS:
    if re.search(pattern, path):
      return part
  return module if " [" not in module else "other"


def kind_of(instruction: str) -> str:
  """What an XLA CPU thunk is, from its instruction name."""
  base = re.sub(r"\.\d+$", "", instruction)
  if base in ("ynn_fusion", "dot") or base.startswith("dot"):
    return "dot / convolution (XNNPACK fusion, Eigen dot)"
  if "convolution" in base:
    return "convolution"
  if "transpose" in base or "copy" in base or base == "bitcast":
    return "layout (transpose / copy)"
  if "reduce" in base:
    return "reduction"
  return "elementwise fusion"


def profile(model: str, steps: int, quick: bool = False, hlo: str | None = None) -> dict:
  import jax
  from experiments.benchmarks import jax_steps
  from experiments.benchmarks import reference_jax
  from genereg_jax.train import trainer

  cfg = reference_jax.config(model, quick)
  experiment = trainer.Experiment(cfg)
  batch_np = inputs.make_batch(model, cfg.batch_size)
  batch_np["sequence"] = batch_np["sequence"].astype(np.uint8)
  example = {k: v[0] for k, v in batch_np.items()}
  state, batch, train_step, _ = jax_steps.trainer_steps(experiment, example, batch_np)
  compiled = train_step.lower(state, batch).compile()
  if hlo:  # The compiled program, to read the fusions the tables name.
    with open(hlo, "w") as f:
      f.write(compiled.as_text())
  holder = {"state": state}

  def step():
    holder["state"], metrics = compiled(holder["state"], batch)
    return metrics["loss"]

  for _ in range(3):  # Warm-up outside the trace.
    jax.block_until_ready(step())
  trace_dir = tempfile.mkdtemp(prefix="profile_step_")
  with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
    start = time.perf_counter()
    for _ in range(steps):
      jax.block_until_ready(step())
    step_ms = (time.perf_counter() - start) * 1e3 / steps
  path = glob.glob(os.path.join(trace_dir, "**", "perfetto_trace.json.gz"), recursive=True)[0]
  with gzip.open(path) as f:
    trace = json.load(f)
  events = trace["traceEvents"] if isinstance(trace, dict) else trace
  names = _instruction_op_names(compiled.as_text())
  per_instruction = collections.Counter()
  xla_threads = set()
  for e in events:
    if e.get("ph") == "X" and e.get("name") in names:
      per_instruction[e["name"]] += e.get("dur", 0.0) / 1e3 / steps  # us -> ms per step
      xla_threads.add(e.get("tid"))
  # Events on the same threads that name no HLO instruction (runtime, oneDNN kernels).
  unmatched = collections.Counter()
  for e in events:
    if (e.get("ph") == "X" and e.get("tid") in xla_threads
        and e.get("name") not in names):
      unmatched[e.get("name")] += e.get("dur", 0.0) / 1e3 / steps
  tables = {"part": collections.Counter(), "module": collections.Counter(),
            "kind": collections.Counter()}
  for name, ms in per_instruction.items():
    module = module_of(names[name])
    tables["part"][part_of(module)] += ms
    tables["module"][module] += ms
    tables["kind"][kind_of(name)] += ms
  return {"model": model, "steps": steps, "step_ms": step_ms,
          "thunk_ms": sum(per_instruction.values()),
          "flops": jax_steps.compiled_flops(compiled),
          **{f"by_{k}": dict(v.most_common()) for k, v in tables.items()},
          "unmatched_events_ms": dict(unmatched.most_common(20)),
          "top": [(name, round(ms, 3), names[name]) for name, ms in
                  per_instruction.most_common(100)]}


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", default="enformer", choices=inputs.MODELS)
  parser.add_argument("--steps", type=int, default=3)
  parser.add_argument("--top", type=int, default=20)
  parser.add_argument("--quick", action="store_true", help="small batch")
  parser.add_argument("--output", default=None, help="also write the profile as JSON")
  parser.add_argument("--hlo", default=None, help="also write the compiled HLO text")
  args = parser.parse_args(argv)
  result = profile(args.model, args.steps, args.quick, args.hlo)
  total = result["thunk_ms"] or 1.0
  print(f"{args.model}: step {result['step_ms']:.1f} ms (wall), XLA thunks "
        f"{result['thunk_ms']:.1f} ms per step, {(result['flops'] or 0) / 1e9:.1f} GFLOP")
  for table in ("by_part", "by_kind", "by_module"):
    print(table.replace("_", " ") + ":")
    for key, ms in list(result[table].items())[:args.top]:
      print(f"  {key:<48} {ms:9.1f} ms  {ms / total:6.1%}")
  print("events on XLA threads naming no instruction (ms per step):")
  for name, ms in list(result["unmatched_events_ms"].items())[:args.top]:
    print(f"  {ms:9.1f} ms  {name}")
  print("top instructions:")
  for name, ms, op_name in result["top"][:args.top]:
    print(f"  {ms:9.1f} ms  {name:<28} {op_name[-110:]}")
  if args.output:
    from genereg_jax import files
    files.write_json(args.output, result)


if __name__ == "__main__":
  main()
