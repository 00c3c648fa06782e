"""All repository functions in one namespace: ``from studio.store import repo``.

They live in modules by topic (:mod:`~studio.store.designs`, :mod:`~studio.store.runs`,
:mod:`~studio.store.feedback`, :mod:`~studio.store.settings`). Each takes an open
session first, returns ORM objects attached to it (readable after the ``with
ws.session()`` block ends, since sessions do not expire on commit) and flushes but
never commits.
"""

from __future__ import annotations

from studio.store.designs import (
    content_hash,
    design_history,
    ensure_task,
    get_design,
    get_version,
    latest_version,
    list_designs,
    list_tasks,
    save_design_version,
)
from studio.store.feedback import (
    add_llm_exchange,
    add_refinement_round,
    add_rollout,
    delete_rollout,
    feedback_signature,
    get_ranking,
    get_rollout,
    get_round,
    list_llm_exchanges,
    list_rankings,
    list_rollouts,
    list_rounds,
    rollout_env_ids,
    save_ranking,
    save_tiered_ranking,
    update_round,
)
from studio.store.runs import (
    ALLOWED_TRANSITIONS,
    add_checkpoint,
    add_marker,
    append_metric_rows,
    append_metrics,
    create_run,
    get_run,
    latest_checkpoint,
    list_checkpoints,
    list_runs,
    metric_keys,
    metric_series,
    run_markers,
    set_run_status,
)
from studio.store.settings import delete_setting, get_setting, set_setting

__all__ = [
    "ALLOWED_TRANSITIONS", "add_checkpoint", "add_llm_exchange", "add_marker",
    "add_refinement_round", "add_rollout", "append_metric_rows", "append_metrics",
    "content_hash", "create_run", "delete_rollout", "delete_setting", "design_history",
    "ensure_task", "feedback_signature",
    "get_design", "get_ranking", "get_rollout", "get_round", "get_run", "get_setting",
    "get_version", "latest_checkpoint", "latest_version", "list_checkpoints", "list_designs",
    "list_llm_exchanges", "list_rankings", "list_rollouts", "list_rounds", "list_runs",
    "list_tasks", "metric_keys", "metric_series", "rollout_env_ids", "run_markers",
    "save_design_version", "save_ranking", "save_tiered_ranking", "set_run_status",
    "set_setting", "update_round",
]
