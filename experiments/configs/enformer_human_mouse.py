r"""Enformer (Avsec et al., Nature Methods 2021) on human and mouse coverage tracks.

  python -m experiments.train --config=enformer_human_mouse --workdir=/ckpt/enformer
  python -m experiments.train --config=enformer_human_mouse:synthetic --workdir=/tmp/enf
  python -m experiments.train --config=enformer_human_mouse:synthetic_local --workdir=/tmp/enf_local
  python -m experiments.train --config=enformer_human_mouse:synthetic_warm --workdir=/tmp/enf_warm \
      --config.init_from_kwargs.path=/tmp/enf_local
  python -m experiments.train --config=enformer_human_mouse:tiny --workdir=/tmp/enf_tiny

Default: the paper's model (251,221,292 parameters) and recipe on the Basenji2/Enformer
training data (``python -m data_builders.build --dataset=basenji_barnyard/human
--manual_dir=...`` and ``/mouse``; see BUILD.md): batch 64, Adam 5e-4 after a 5,000-step
linear warm-up, global-norm clipping 0.2, human and mouse batches in alternation,
reverse-complement (with target reversal) and ±3 bp shift augmentation, Poisson loss.
The paper trained 150,000 steps on 64 TPU v3 cores; on GPUs use
``--config.compute_dtype=bfloat16 --config.model.remat=True`` and a model-parallel mesh
(BUILD.md).

Variants:

``synthetic``: a reduced Enformer (dim 96, 2 transformer blocks, 366,505 parameters) on
the embedded two-species ``synthetic_coverage`` ``*_distal`` data (version 1.1.0; 24,576
bp, 160 bins of 128 bp; human 6 and mouse 3 tracks; most genes have their own enhancer
10-20 kb from the TSS, and CAGE follows enhancers more than promoters), batch 8, Adam
1e-3 after 100 warm-up steps, clipping 1.0, human and mouse batches alternating, 3,000
steps: the train step takes 0.35 s on 2 quiet cores (experiments/benchmarks/README.md),
so about 20 min of steps, well inside 2 hours with evaluation; on a loaded machine
(1.5-3 examples/s) it takes hours. The data builds on first use (both species: 6 min at
load ~16). A relaunch in the same workdir resumes.

``synthetic_local``: the same data and recipe with ``depth=0``, i.e. the same conv tower
with no transformer (226,473 parameters), so each 128-bp output bin sees
``conv_receptive_field_bp(7)`` = 646 bp (the bin ±259 bp) instead of the whole 24,576 bp.
The pair isolates long-range context, up to the transformer's 140k extra parameters.

``synthetic_warm``: ``:synthetic`` started from a ``:synthetic_local`` workdir
(``--config.init_from_kwargs.path=/tmp/enf_local``, optionally ``.step=N``): its stem,
conv tower, final block and heads (and batch statistics) are loaded, and the two
transformer blocks are new and start as the identity (``model.identity_init``: the
feed-forward output projection at zero, like the attention's), so at step 0 the long
model predicts exactly what the local one did and training can only add what attention
reads from farther than 646 bp. The local phase (learning the motifs, which on the
``*_distal`` data takes both models over 1,000 steps) is then paid once.

``tiny``: seconds, for tests.

Measured on the 1.0.0 data (``synthetic_coverage/{species}``, before issue 22; seed 0;
test split; Pearson R per track over all bins, averaged per species;
wall = ``experiments.train`` end to end, ex/s = mean of the logged training rates, both
on a shared 2-core CPU whose load varied, so they compare runs only roughly; 2,000 = the
800-step run resumed with ``--config.num_train_steps=2000``):

  =================  =====  =======  ====  =====  =====  ===========================
  variant            steps  wall     ex/s  human  mouse  human CAGE/DNase/H3K27ac
  =================  =====  =======  ====  =====  =====  ===========================
  synthetic            800  41 min   3.0   0.423  0.601  0.51 / 0.40 / 0.35
  synthetic_local      800  27 min   4.5   0.535  0.682  0.77 / 0.51 / 0.33
  synthetic          2,000  2h01m    3.1   0.534  0.722  0.59 / 0.50 / 0.52
  synthetic_local    2,000  47 min   6.9   0.658  0.710  0.79 / 0.76 / 0.42
  =================  =====  =======  ====  =====  =====  ===========================

Mouse CAGE/DNase/H3K27ac at 2,000 steps: ``synthetic`` 0.60 / 0.84 / 0.73,
``synthetic_local`` 0.80 / 0.87 / 0.46. Both runs learn (valid human R 0.14 -> 0.54 and
0.37 -> 0.65 from step 400 to 2,000), but the long model does not beat the short one on
the signal built for it. It wins on H3K27ac, whose lobes (sd 800 bp, 500 bp either side
of an element) span kilobases a 646-bp window cannot see, and loses on CAGE. At TSS bins
neither model's CAGE follows the enhancer boost (corr(prediction / P, R / P) <= 0.08 for
both, P the promoter strength): both predict from the promoter alone, and the long one
does even that worse (its CAGE correlates 0.46 with P against 0.88, and spreads 41% of
its ±1-bin mass off the TSS bin against 13%). The data has the headroom: Pearson R of
the noise-free expected coverage with the Poisson targets is 0.997 for CAGE (0.98 mean),
and with each promoter's enhancer boost replaced by its mean, roughly the best without
enhancer-promoter context, 0.85 (0.92 mean). So at this budget the comparison measures
how fast each model learns the local grammar; the long model's valid R was flat from
step 1,600 to 2,000 (0.537 -> 0.543 human) at the constant learning rate.

Why (issue 22, measured with ``python -m experiments.enhancer_deletion --truth`` on the
200 test examples; R over genes at their TSS bins against the targets). The data, not
the geometry: on 1.0.0 each promoter sums ~8 enhancers spread over the window, so its
boost varies little between genes and promoter strength alone reaches CAGE R 0.65
(human liver/esc 0.652 / 0.655, mouse 0.667; expected CAGE 0.99). The geometry is
sound: ``:synthetic``'s bins see all 24,576 bp and ``:synthetic_local``'s 646 bp
(tests/experiments/test_enformer_configs.py), and deleting a distal enhancer moves a
TSS bin only through attention (tests/experiments/test_enhancer_deletion.py).
The 1.1.0 ``*_distal`` data gives 74-78% of test genes their own enhancer 10-20 kb
away (1.5 promoters and 0.5 other enhancers per example, basal output 0.2): promoter
strength alone falls to R 0.36 / 0.31 (human liver/esc) and 0.42 (mouse) with the
expected CAGE at 0.99 / 0.98 / 0.99, and deleting each gene's enhancer takes 35% of the
mean CAGE (17.7 -> 11.5 counts per TSS bin, human liver). Optimisation was not
separated today (no quiet CPU): the recipe is unchanged except its length.

Short runs on the 1.1.0 data (both models at the same time, load 2-27 on 2 cores, so
wall times are only comparable between these rows; test split; CAGE at TSS bins and
deletions from ``enhancer_deletion`` on the first 40 test examples per species):

  ================  =====  ========  ===============  ===============  ============
  variant           steps  wall      test R human     test R mouse     TSS-bin CAGE
                                     (loss)           (loss)           R h-liver/m
  ================  =====  ========  ===============  ===============  ============
  synthetic           300  25m48s    0.005 (0.490)    -0.001 (0.548)
  synthetic_local     300  23m53s    0.003 (0.501)     0.013 (0.545)
  synthetic           450  +5m41s   -0.005 (0.491)    -0.008 (0.548)   -0.06 / 0.10
  synthetic_local     450  +5m45s    0.004 (0.483)     0.002 (0.538)    0.11 / 0.18
  synthetic           700  +5m26s    0.007 (0.487)     0.007 (0.539)    0.05 / 0.12
  synthetic_local     700  +5m04s    0.013 (0.480)     0.014 (0.534)   -0.06 / 0.11
  synthetic         1,200  +7m02s    0.022 (0.480)     0.036 (0.524)
  synthetic_local   1,200  +6m29s    0.240 (0.288)     0.310 (0.322)
  ================  =====  ========  ===============  ===============  ============

(wall: steps 0-300 at load 20-27, the resumed 300-450 and 450-700 at load 5-15,
700-1,200 at load 2-7.) By step 1,200 the local model has left the first phase of
training (test R 0.24 / 0.31, loss 0.29 / 0.32) and the long model has not (0.02 /
0.04, loss 0.48 / 0.52): on this data as on 1.0.0 (step 400: valid human R 0.14 vs
0.37) the transformer model takes longer to start, which points at optimisation (its
attention output projections start at zero; same learning rate and warm-up as the conv
model) as well as data; not yet separated. Up to step 700 neither model had left that
phase, predicting each track's mean level: test R is ~0 on every track (at 700 steps the local model's predictions vary
across bins with sd 0.03-0.19 against 1.0-6.8 for the targets), so per-kind numbers say
nothing yet, and the long model's predicted deletion effect is 0.000 counts against a
true 8.1 (human liver, 40 test examples; deletion R -0.13 / 0.19 / -0.05 for human
liver / esc / mouse). The 1.0.0 runs had left it by step 400 (valid human R 0.14 long,
0.37 local); the ``*_distal`` targets are sparser (mean human CAGE 0.22 per bin against
0.86, fewer elements per example), which lengthens that phase. Whether the long model
then beats the local one on paired genes is what the 3,000-step run must show; if the
long model is still at R ~0 at step 1,500, its start (learning rate, warm-up) is the
next thing to fix.

Session 15 (issue 22): the warm start. Both models spend their first ~1,000-1,500 steps
on the ``*_distal`` data predicting track means (test R <= 0.04 at step 1,000 for the long
model, the local model and the long model at learning rate 2e-3 alike; dropout is 0.1 in
these configs, so dropout was not it), and the long model leaves that phase later
(valid R at step 1,500: long 0.13 / 0.16 human / mouse, local 0.30 / 0.39). So the
recipe pays the motif-learning phase once, in the local model, and starts the long
model from it (``:synthetic_warm``). Runs on the shared 2-core CPU (seed 0; up to 3
training runs and a niced helper at once, load 3-11), test split:

  ====================================  =====  ======  =====  =====  ===================
  run                                   steps  wall    human  mouse  human CAGE liver /
                                                                     esc, DNase, H3K27ac
  ====================================  =====  ======  =====  =====  ===================
  synthetic_local                       4,500  1h28m   0.495  0.579  0.51 / 0.58, 0.82 /
                                                                     0.48, 0.41 / 0.17
  synthetic_local 2,000 +               4,500  1h35m   0.596  0.699  0.79 / 0.57, 0.79 /
  synthetic_warm 2,500                                               0.37, 0.77 / 0.28
  synthetic (from scratch), valid R     1,500  (60m)   0.134  0.160
  ====================================  =====  ======  =====  =====  ===================

(mouse per track, local / warm: CAGE 0.55 / 0.65, DNase 0.80 / 0.76, H3K27ac 0.38 /
0.68. Wall: the local run's first 2,000 steps took 46 min and the warm run's 2,500 took
49 min, each sharing the cores with one or two other runs; on the same machine alone the
local step logs 15 examples/s, so both stages fit well inside 2 hours.) At the TSS
bins of test genes (``experiments.enhancer_deletion``; 236 human / 254 mouse genes,
175 / 198 with a paired enhancer):

  ================  ===========  ===========  =============  ==========================
  CAGE track        R paired     R all genes  deletion R     deletion effect, counts
                    warm/local   warm/local   (warm)         warm / true (local: 0)
  ================  ===========  ===========  =============  ==========================
  human liver       0.71 / 0.38  0.75 / 0.33  0.76           2.39 / 6.20
  human esc         0.31 / 0.33  0.33 / 0.34  -0.12          0.78 / 3.89
  mouse liver       0.55 / 0.40  0.53 / 0.36  0.54           2.63 / 4.79
  ================  ===========  ===========  =============  ==========================

So the long model now beats the local one where the enhancer decides: liver CAGE at
paired genes +0.32 (human) and +0.16 (mouse), promoter strength alone reaching 0.42 /
0.42; deleting a gene's enhancer moves its prediction the right way and in proportion
(deletion R 0.76 / 0.54), at 39-55% of the true size. Continued to 4,000 warm steps
(6,000 in all; 26 more min, partly beside a test run), the size grows toward the truth:
test R 0.638 / 0.734, liver CAGE R at paired genes 0.75 / 0.61, deletion R 0.73 / 0.63,
effect 3.58 / 6.20 (58%) human and 3.35 / 4.79 (70%) mouse; esc still flat. ESC CAGE has not been learnt by
either model at this budget, although esc motifs are as common as liver ones (why is
open: longer runs are the first thing to try). Input x gradient at the TSS
bin of the gene with the largest enhancer effect puts its enhancer, 13.0 kb away,
first of the 187 bins away from the TSS (24.7% of their total; README figure,
``docs/figures/enhancer_contributions.png``). The commands:

  python -m experiments.train --config=enformer_human_mouse:synthetic_local \
      --workdir=/tmp/enf_local --config.num_train_steps=2000
  python -m experiments.train --config=enformer_human_mouse:synthetic_warm \
      --workdir=/tmp/enf_warm --config.init_from_kwargs.path=/tmp/enf_local \
      --config.num_train_steps=2500
  python -m experiments.enhancer_deletion --workdir=/tmp/enf_warm \
      --workdir=/tmp/enf_local_4500 --contributions=/tmp/enf_warm/contributions.png

(the comparison local model is the same run continued to 4,500 steps in its own
workdir).
"""

import ml_collections

from experiments.configs import _base, model_config

VARIANTS = ("real", "synthetic", "synthetic_local", "synthetic_warm", "tiny")


def conv_receptive_field_bp(num_downsamples: int, stem_kernel: int = 15,
                            tower_kernel: int = 5) -> int:
  """bp of input that one output bin of Enformer's conv tower sees (no transformer).

  Stem conv ``stem_kernel`` at stride 1 and attention pool 2 (+1 bp); each of the
  ``num_downsamples - 1`` tower blocks at input stride s adds ``(tower_kernel - 1) s``
  (conv) + ``s`` (pool 2); pointwise convs, the crop and the heads add nothing.
  ``num_downsamples=7``: 15 + 1 + 5 (2 + 4 + ... + 64) = 646 bp.
  """
  field, stride = stem_kernel + 1, 2
  for _ in range(num_downsamples - 1):
    field += (tower_kernel - 1) * stride + stride
    stride *= 2
  return field


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "real"
  _base.check_variant("enformer_human_mouse", variant, VARIANTS)
  # Model: the paper's Enformer, heads human 5,313 and mouse 1,643 tracks.
  # Optimizer (paper, Methods: Adam, lr 5e-4, 5,000 warm-up steps, clip 0.2).
  config = _base.coverage_config(
      species=("human", "mouse"), batch_size=64, eval_batch_size=64,
      model_name="enformer", model_preset="paper",
      model=model_config("enformer", "paper", remat=False),
      optimizer=dict(learning_rate=5e-4, schedule="constant", warmup_steps=5000,
                     clip_norm=0.2),
      num_train_steps=150_000, log_every_steps=100, eval_every_steps=5000,
      checkpoint_every_steps=1000)
  # Parallelism: attention heads, MLP hidden units and output tracks on "model".
  config.logical_axis_rules = (("batch", "data"), ("heads", "model"), ("mlp", "model"),
                               ("tracks", "model"))

  if variant in ("synthetic", "synthetic_local", "synthetic_warm"):
    # 24,576 bp, 160 bins of 128 bp; 6 human and 3 mouse tracks; most of each gene's
    # CAGE set by its own enhancer 10-20 kb away (synthetic_coverage *_distal, 1.1.0).
    _base.use_synthetic_coverage(
        config, "synthetic_coverage/{species}_distal",
        model=dict(dim=96, depth=2, heads=4, attn_dim_key=16, num_downsamples=7,
                   dim_divisible_by=16, target_length=160),
        learning_rate=1e-3, warmup_steps=100, num_train_steps=3000,
        eval_every_steps=1000)
    config.log_every_steps = 50
    if variant == "synthetic_local":
      # The same conv tower with no transformer: each bin sees 646 bp.
      config.model.depth = 0
    elif variant == "synthetic_warm":
      # The long model started from a :synthetic_local workdir: its conv tower, final
      # block and heads loaded, the transformer blocks new and starting as the identity,
      # so step 0 predicts what the local model did.
      config.model.identity_init = True
      config.init_from = "genereg_jax.train.finetune:load_base"
      config.init_from_kwargs = ml_collections.ConfigDict(dict(
          path=ml_collections.FieldReference(None, str),
          step=ml_collections.FieldReference(None, int)))
      config.init_from_keep = ("^transformer_",)
  elif variant == "tiny":
    # 2,048 bp, 48 bins of 32 bp (synthetic_coverage/tiny_*).
    _base.use_synthetic_coverage(
        config, "synthetic_coverage/tiny_{species}",
        model=dict(num_downsamples=5, target_length=48), learning_rate=2e-3,
        warmup_steps=20, num_train_steps=1000, eval_every_steps=250)
  return config
