"""Training: PPO on a reward design, in-process or in a spawned process, headless.

- :mod:`studio.train.ppo`: :class:`~studio.train.ppo.PPOConfig` and the cancellable
  trainer :class:`~studio.train.ppo.PPO` (``train_update()`` / ``run()``), whose reward is
  the compiled design evaluated on the simulator's features.
- :mod:`studio.train.messages`: what a trainer emits (metrics, snapshots, markers,
  checkpoints, progress, failures) and the commands it accepts.
- :mod:`studio.train.process`: :class:`~studio.train.process.TrainingProcess`, a run in a
  ``spawn`` process with checkpoints and resume; :mod:`studio.train.loop` is its body.
- :mod:`studio.train.cli_train` and :mod:`studio.train.bench_train`: ``reward-studio
  train`` and ``reward-studio bench train``.

This package imports no Qt and no SQL: it emits messages, and the app persists them.
"""
