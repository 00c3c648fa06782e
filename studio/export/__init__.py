"""Code generators and importers: designs out as code, reward code in as designs. No Qt.

Public API:

* :func:`studio.export.cli.export_design` / ``reward-studio export``: a design as
  ``python`` (standalone numpy + mujoco, ``compute_reward(model, data, action, next_data)``),
  ``torch`` (a batched ``nn.Module``), ``gymnasium`` (``wrap(env)``) or ``json``;
  :func:`studio.export.cli.load_design_ref` reads a file or ``WORKSPACE:name[@version]``.
* :class:`studio.export.registry.ExporterRegistry`, filled by ``reward_studio.exporters``
  plugins (:func:`studio.export.registry.default_registry`).
* :func:`studio.export.feature_code.feature_code`: standalone numpy source of a task's features.
* :func:`studio.export.importer.import_reward`: a Eureka-style reward function as a design,
  with a line-numbered report; :func:`studio.export.importer.evaluate_code_terms` runs the
  opted-in rest through :func:`studio.export.sandbox.run_sandboxed`.
"""
