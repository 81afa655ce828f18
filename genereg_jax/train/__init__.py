"""The one trainer for every model (DESIGN.md, decision 5).

``trainer.train_and_evaluate(config, workdir)`` and ``trainer.evaluate(...)``; the
pieces it composes live beside it: ``optim`` (optax from the config), ``partitioning``
(mesh and logical-axis shardings), ``checkpointing`` (orbax) and ``reporting``
(progress lines, metrics.jsonl, TensorBoard).
"""
