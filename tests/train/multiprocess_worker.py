"""``python -m experiments.train`` for tests/train/test_multiprocess.py, with a pause.

With ``PAUSE_AFTER_CHECKPOINT=<step>`` in the environment the process writes
``<workdir>/paused.<process index>`` once that step's checkpoint is saved and then waits
to be killed: the test's SIGKILL lands right after a checkpoint, every time, instead of
racing a tiny model that finishes its steps in a second. Without it, this is exactly
``python -m experiments.train`` (same flags).
"""

import os
import time

from experiments import common
from experiments import train


def pause_after_checkpoint(step: int) -> None:
  import jax
  from genereg_jax.train import checkpointing
  save = checkpointing.Checkpointer.save

  def save_then_pause(self, at, *args, **kwargs):
    save(self, at, *args, **kwargs)
    if at == step:
      workdir = os.path.dirname(str(self.latest.directory))
      with open(os.path.join(workdir, f"paused.{jax.process_index()}"), "w") as f:
        f.write(str(os.getpid()))
      time.sleep(600)

  checkpointing.Checkpointer.save = save_then_pause


if __name__ == "__main__":
  if os.environ.get("PAUSE_AFTER_CHECKPOINT"):
    pause_after_checkpoint(int(os.environ["PAUSE_AFTER_CHECKPOINT"]))
  common.run(train.main)
