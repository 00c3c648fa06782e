"""The refinement service: drives the ICPL loop of :mod:`studio.refine.loop` against the store.

:class:`RefineService` keeps every experiment's state in the workspace (experiments, rounds,
candidates, runs, rollouts, rankings, LLM exchanges) and advances it one action at a time:
:meth:`RefineService.step` asks the state machine what is next and does it: proposes K
designs, starts their training through a runner (``studio.train.runners``: parallel up to
the cores, one at a time on a GPU), polls the runs (each persisted by its own
:class:`~studio.app.run_controller.RunController`), records each final policy's rollout
(video and trace, through :class:`studio.app.ranking.RankingService`), and ranks the round
by the task score (the proxy human) or stops until a person has ranked it. Nothing is held
only in memory: a loop killed mid-round resumes from the rows (a candidate left training
continues from its checkpoint). The proposer never sees a task score.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from studio.app.refine_feedback import build_feedback, start_variants
from studio.app.run_controller import RunController
from studio.core.design import Design
from studio.refine import loop
from studio.refine.loop import CandidateStatus, LoopState
from studio.refine.proposers import Proposer, ProposerError, proposers
from studio.store import RunStatus, repo
from studio.store import refinement as rstore
from studio.train.ppo import PPOConfig
from studio.train.runners import Runner, make_runner

__all__ = ["RefineConfig", "RefineService"]

BLOCKING = (loop.AwaitRanking, loop.Done, loop.Failed)


@dataclass
class RefineConfig:
    """Settings of one experiment (stored with it; never an API key)."""

    rounds: int = 5
    """Rounds to run."""
    k: int = 4
    """Candidates per round."""
    steps_per_candidate: int = 100_000
    """Environment steps each candidate trains for."""
    seed: int = 0
    rollout_steps: int = 1000
    """Steps of each candidate's recorded rollout (one episode at most)."""
    video: bool = True
    """Render each rollout's video (the ranking view needs it; the proxy does not)."""
    model: str | None = None
    """The LLM proposer's model."""
    llm_retries: int = 3
    proposer_options: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    """Training preset of every candidate (None: the task's tuned default for the device)."""
    checkpoint_every: int = 10
    """Updates between a candidate's checkpoints (what a resumed round continues from)."""


def candidate_config(env_id: str, steps: int, seed: int, preset: str | None = None,
                     device: str = "cpu") -> PPOConfig:
    """The training config of one candidate: the task's tuned preset for the device
    (``studio.train.presets``; ``preset`` names another), for ``steps`` steps."""
    from studio.train.presets import ppo_config

    try:
        return ppo_config(env_id, preset, device, total_timesteps=steps, seed=seed, snapshot_every=0)
    except KeyError:  # a task without presets (an MJCF file): the studio's general default
        return ppo_config(env_id, "cleanrl", device, total_timesteps=steps, seed=seed,
                          snapshot_every=0)


class RefineService:
    """Create, advance, pause and resume refinement experiments of one workspace."""

    def __init__(self, workspace: Any, *, runner: Runner | None = None,
                 env_factory: str | None = None, ranking: Any = None,
                 proposer_factory: Callable[..., Proposer] | None = None) -> None:
        self.workspace = workspace
        self.runner = runner or make_runner("local")
        self.env_factory = env_factory
        if ranking is None:
            from studio.app.ranking import RankingService

            ranking = RankingService(workspace)
        self.ranking = ranking
        self._proposer_factory = proposer_factory
        self._controllers: dict[int, RunController] = {}
        self._proposers: dict[int, Proposer] = {}
        self._secrets: dict[int, str] = {}
        self.log: Callable[[str], None] = lambda _msg: None

    # --- experiments ------------------------------------------------------------------------
    def create(self, design: Design, env_id: str, proposer: str, rank: str,
               config: RefineConfig, name: str | None = None) -> int:
        """A new experiment starting from ``design``; returns its id."""
        if rank not in ("proxy", "app"):
            raise ValueError(f"unknown ranking mode {rank!r}: use proxy or app")
        if proposer not in proposers().factories:
            raise ValueError(f"unknown proposer {proposer!r} (known: "
                             f"{', '.join(sorted(proposers().factories))})")
        if config.k < 2:
            raise ValueError(f"--k {config.k}: a round needs at least 2 candidates to rank")
        stored = asdict(config)
        # A key is a secret: kept in memory for this process, never written to the store
        # (a resumed experiment reads OPENAI_API_KEY from the environment again).
        secret = stored["proposer_options"].pop("api_key", None)
        with self.workspace.session() as s:
            version = repo.save_design_version(s, env_id, design.name or "start", design.to_json(),
                                               "refinement start design")
            exp = rstore.create_experiment(s, env_id, name or f"refine {design.name}", proposer,
                                           rank, start_version_id=version.id, config=stored)
            exp_id = int(exp.id)
        if secret is not None:
            self._secrets[exp_id] = str(secret)
        return exp_id

    def config(self, experiment_id: int) -> tuple[RefineConfig, str, str, str]:
        """(config, env id, proposer, rank mode) of an experiment."""
        with self.workspace.session() as s:
            exp = rstore.get_experiment(s, experiment_id)
            return RefineConfig(**exp.config), exp.task.env_id, exp.proposer, exp.rank_mode

    def state(self, experiment_id: int) -> LoopState:
        """The loop's state as stored (rankings found by round, or by their rollouts)."""
        cfg, _, _, _ = self.config(experiment_id)
        state = LoopState(total_rounds=cfg.rounds, k=cfg.k)
        with self.workspace.session() as s:
            exp = rstore.get_experiment(s, experiment_id)
            state.paused = exp.status == "paused"
            for rnd in rstore.experiment_rounds(s, experiment_id):
                r = loop.Round(rnd.index, id=rnd.id)
                for c in rstore.list_candidates(s, rnd.id):
                    doc = repo.get_version(s, c.design_version_id).data if c.design_version_id else {}
                    r.candidates.append(loop.Candidate(
                        c.index, doc, c.status, c.run_id, c.rollout_id, c.device, c.place,
                        c.error, c.id))
                state.rounds.append(r)
        for r in state.rounds:
            r.ranking_id = self._find_ranking(r)
        return state

    def _find_ranking(self, r: loop.Round) -> int | None:
        """The newest non-skipped ranking of the round, or of exactly its rollouts."""
        ids = {c.rollout_id for c in r.recorded}
        found = None
        for info in self.ranking.rankings():
            if info.skipped or not info.tiers:
                continue
            ranked = {i for tier in info.tiers for i in tier}
            if info.round_id == r.id or (len(ranked) >= 2 and ranked <= ids and info.round_id is None):
                found = info.id
        return found

    def pause(self, experiment_id: int) -> None:
        """Pause: running candidates pause at their next update; nothing new starts."""
        with self.workspace.session() as s:
            rstore.set_experiment_status(s, experiment_id, "paused")
        for ctl in self._controllers.values():
            ctl.pause()

    def resume(self, experiment_id: int) -> None:
        """Continue a paused (or interrupted, or awaiting) experiment."""
        with self.workspace.session() as s:
            rstore.set_experiment_status(s, experiment_id, "running", None)
        for ctl in self._controllers.values():
            ctl.resume()

    # --- the loop ---------------------------------------------------------------------------
    def run(self, experiment_id: int, *, poll_s: float = 0.2,
            should_stop: Callable[[], bool] | None = None) -> loop.Action:
        """Advance until the experiment is done, failed, awaits a ranking or is paused."""
        while True:
            action = self.step(experiment_id)
            if isinstance(action, BLOCKING) or self.state(experiment_id).paused:
                return action
            if should_stop is not None and should_stop():
                return action
            if isinstance(action, loop.Wait):
                time.sleep(poll_s)

    def step(self, experiment_id: int) -> loop.Action:
        """Do the next thing the state machine asks for; returns that action."""
        cfg, env_id, proposer, rank = self.config(experiment_id)
        state = self.state(experiment_id)
        if state.paused:
            self._poll(experiment_id, state, env_id)
            return loop.Wait(state.rounds[-1].index if state.rounds else 0)
        action = loop.next_action(state, rank)
        if isinstance(action, loop.Propose):
            try:
                self._propose(experiment_id, state, action.round_index, cfg, env_id, proposer)
            except ProposerError as exc:  # stored; --resume (or Resume) asks again
                action = loop.Failed(f"round {action.round_index}: the {proposer} proposer "
                                     f"failed: {exc}")
        elif isinstance(action, loop.Train):
            self._train(state, action, cfg, env_id)
        elif isinstance(action, loop.Wait):
            self._poll(experiment_id, state, env_id)
        elif isinstance(action, loop.Record):
            self._record(state, action, cfg, env_id)
        elif isinstance(action, loop.RankByProxy):
            self._rank_by_proxy(state.rounds[action.round_index - 1])
        status = {loop.AwaitRanking: "awaiting_ranking", loop.Done: "done",
                  loop.Failed: "failed"}.get(type(action))
        if status is not None:
            with self.workspace.session() as s:
                rstore.set_experiment_status(s, experiment_id, status,
                                             action.reason if isinstance(action, loop.Failed) else None)
        if not isinstance(action, loop.Wait):
            self.log(_describe(action))
        return action

    def proposer(self, experiment_id: int) -> Proposer:
        """The experiment's proposer (one instance per experiment and process)."""
        if experiment_id not in self._proposers:
            cfg, env_id, name, _ = self.config(experiment_id)
            kwargs: dict[str, Any] = dict(cfg.proposer_options)
            if name == "llm":
                from studio.sim.registry import get_task

                kwargs.setdefault("retries", cfg.llm_retries)
                if experiment_id in self._secrets:
                    kwargs["api_key"] = self._secrets[experiment_id]
                kwargs.setdefault("features", get_task(env_id).feature_names())
                if cfg.model:
                    kwargs.setdefault("model", cfg.model)
            elif name in ("preference", "perturb"):
                kwargs.setdefault("seed", cfg.seed)
            make = self._proposer_factory or proposers().create
            self._proposers[experiment_id] = make(name, **kwargs)
        return self._proposers[experiment_id]

    def _propose(self, experiment_id: int, state: LoopState, index: int, cfg: RefineConfig,
                 env_id: str, proposer_name: str) -> None:
        with self.workspace.session() as s:
            exp = rstore.get_experiment(s, experiment_id)
            start = Design.from_json(repo.get_version(s, exp.start_version_id).data)
        if index == 1:
            designs = start_variants(start, cfg.k, cfg.seed)
            used = "start"
        else:
            proposer = self.proposer(experiment_id)
            feedback = build_feedback(self, state, env_id, index)
            round_id = state.rounds[-1].id
            if hasattr(proposer, "on_exchange"):
                proposer.on_exchange = lambda ex: self._store_exchange(ex, round_id)
            designs = proposer.propose(feedback, cfg.k)
            used = proposer_name
        with self.workspace.session() as s:
            rnd = rstore.add_experiment_round(s, experiment_id, index, used)
            for i, d in enumerate(designs):
                d.task = env_id
                version = repo.save_design_version(s, env_id, d.name or f"round{index}_c{i + 1}",
                                                   d.to_json(), f"refinement round {index}, candidate {i + 1}")
                rstore.add_candidate(s, rnd.id, i, version.id)

    def _store_exchange(self, ex: Any, round_id: int | None) -> None:
        with self.workspace.session() as s:
            repo.add_llm_exchange(s, provider="openai-compatible", model=ex.model, prompt=ex.prompt,
                                  response=ex.response, parsed_ok=ex.parsed_ok, error=ex.error,
                                  latency_s=ex.latency_s, round_id=round_id)

    def _train(self, state: LoopState, action: loop.Train, cfg: RefineConfig, env_id: str) -> None:
        r = state.rounds[action.round_index - 1]
        for i in action.candidates:
            c = r.candidates[i]
            design = Design.from_json(c.document)
            ctl = RunController(self.workspace, self.runner.factory)
            with self.workspace.session() as s:
                version_id = rstore.list_candidates(s, r.id)[i].design_version_id
            device = "cuda" if getattr(self.runner, "gpu", False) else "cpu"
            config = candidate_config(env_id, cfg.steps_per_candidate, cfg.seed + i, cfg.preset, device)
            run_id = ctl.start(design, env_id, config,
                               version_id=version_id, env_factory=self.env_factory,
                               checkpoint_every=cfg.checkpoint_every)
            self._controllers[c.id] = ctl  # type: ignore[index]
            handle = ctl._process
            with self.workspace.session() as s:
                rstore.update_candidate(s, c.id, status=CandidateStatus.TRAINING, run_id=run_id,
                                        device=getattr(handle, "device", None),
                                        place=getattr(handle, "place", None))

    def _poll(self, experiment_id: int, state: LoopState, env_id: str) -> None:
        if not state.rounds:
            return
        for c in state.rounds[-1].candidates:
            if c.status != CandidateStatus.TRAINING or c.id is None:
                continue
            ctl = self._controllers.get(c.id)
            if ctl is None:
                ctl = self._reattach(c, env_id)
                if ctl is None:
                    continue
            out = ctl.poll()
            handle = ctl._process
            fields: dict[str, Any] = {"place": getattr(handle, "place", c.place),
                                      "device": getattr(handle, "device", c.device)}
            if out.failed is not None:
                fields.update(status=CandidateStatus.FAILED, error=out.failed.cause)
            elif out.finished is not None:
                fields.update(status=CandidateStatus.TRAINED)
            if fields.get("status"):
                self._controllers.pop(c.id, None)
                ctl.close()
                self.log(f"round {state.rounds[-1].index} candidate {c.index + 1}: {fields['status']}"
                         + (f" ({fields['error']})" if fields.get("error") else "")
                         + f" [{fields['place']}]")
            with self.workspace.session() as s:
                rstore.update_candidate(s, c.id, **fields)

    def _reattach(self, c: loop.Candidate, env_id: str) -> RunController | None:
        """A candidate left training by a process that is gone: finish, resume or restart it."""
        with self.workspace.session() as s:
            run = repo.get_run(s, c.run_id) if c.run_id is not None else None
            status = None if run is None else run.status
        ctl = RunController(self.workspace, self.runner.factory)
        if status == RunStatus.COMPLETED:
            with self.workspace.session() as s:
                rstore.update_candidate(s, c.id, status=CandidateStatus.TRAINED)  # type: ignore[arg-type]
            return None
        try:
            if status in (RunStatus.INTERRUPTED, RunStatus.STOPPED) and c.run_id is not None:
                cfg, _, _, _ = self.config(self._experiment_of(c))
                ctl.resume_run(c.run_id, env_factory=self.env_factory,
                               checkpoint_every=cfg.checkpoint_every)
                self.log(f"candidate {c.index + 1}: run {c.run_id} resumed from its checkpoint")
            else:
                raise RuntimeError("no checkpoint to resume")
        except RuntimeError:
            with self.workspace.session() as s:  # back to the start: train it afresh
                rstore.update_candidate(s, c.id, status=CandidateStatus.PROPOSED, run_id=None)  # type: ignore[arg-type]
            return None
        self._controllers[c.id] = ctl  # type: ignore[index]
        return ctl

    def _experiment_of(self, c: loop.Candidate) -> int:
        from studio.store.models import RefinementCandidate, RefinementRound

        with self.workspace.session() as s:
            cand = s.get(RefinementCandidate, c.id)
            rnd = s.get(RefinementRound, cand.round_id) if cand is not None else None
            if rnd is None or rnd.experiment_id is None:
                raise RuntimeError(f"candidate {c.id} belongs to no experiment")
            return int(rnd.experiment_id)

    def _record(self, state: LoopState, action: loop.Record, cfg: RefineConfig, env_id: str) -> None:
        r = state.rounds[action.round_index - 1]
        c = r.candidates[action.candidate]
        try:
            info = self.ranking.record(env_id, "run", design=Design.from_json(c.document),
                                       steps=cfg.rollout_steps, seed=cfg.seed, video=cfg.video,
                                       round_id=r.id, run_id=c.run_id)
        except Exception as exc:  # a candidate that cannot be recorded fails alone
            with self.workspace.session() as s:
                rstore.update_candidate(s, c.id, status=CandidateStatus.FAILED,  # type: ignore[arg-type]
                                        error=f"recording failed: {exc}")
            return
        with self.workspace.session() as s:
            rstore.update_candidate(s, c.id, status=CandidateStatus.RECORDED,  # type: ignore[arg-type]
                                    rollout_id=info.id)

    def _rank_by_proxy(self, r: loop.Round) -> None:
        scores = {c.rollout_id: self._task_score(c.rollout_id) for c in r.recorded}
        tiers = loop.proxy_tiers({int(k): v for k, v in scores.items() if k is not None})
        self.ranking.save_ranking(tiers, annotator="proxy", round_id=r.id,
                                  comment="ranked by the task score (proxy human)")
        with self.workspace.session() as s:
            repo.update_round(s, r.id, status="ranked", best_rollout_id=tiers[0][0],  # type: ignore[arg-type]
                              worst_rollout_id=tiers[-1][-1])

    def _task_score(self, rollout_id: int | None) -> float:
        for info in self.ranking.rollouts():
            if info.id == rollout_id:
                return float(info.task_score)
        raise KeyError(f"rollout {rollout_id} is not in the workspace")

    # --- reading ----------------------------------------------------------------------------
    def summary(self, experiment_id: int) -> dict[str, Any]:
        """Rounds done, the best rollout's task score so far, LLM calls and retries."""
        state = self.state(experiment_id)
        scores = {i.id: i.task_score for i in self.ranking.rollouts()}
        best = [scores[c.rollout_id] for r in state.rounds for c in r.recorded if c.rollout_id in scores]
        round_ids = [r.id for r in state.rounds]
        with self.workspace.session() as s:
            exchanges = [e for rid in round_ids for e in repo.list_llm_exchanges(s, rid)]
        calls = len(exchanges)
        retries = calls - sum(1 for e in exchanges if e.parsed_ok)
        return {"rounds": sum(1 for r in state.rounds if r.ranking_id is not None),
                "best_task_score": max(best) if best else float("nan"),
                "llm_calls": calls, "llm_retries": retries}

    def prompt_preview(self, experiment_id: int) -> str | None:
        """The exact prompt the LLM proposer would send for the next round's first candidate
        (None: the proposer is not the LLM, or no round is ranked yet)."""
        _, env_id, name, _ = self.config(experiment_id)
        state = self.state(experiment_id)
        if name != "llm" or not any(r.ranking_id is not None for r in state.rounds):
            return None
        proposer = self.proposer(experiment_id)
        feedback = build_feedback(self, state, env_id, len(state.rounds) + 1)
        return str(proposer.preview(feedback, env_id, 1, state.k))  # type: ignore[attr-defined]

    def status(self, experiment_id: int) -> tuple[str, str | None]:
        """The experiment's status (``running``, ``paused``, ``awaiting_ranking``, ``done``,
        ``failed``) and its error message."""
        with self.workspace.session() as s:
            exp = rstore.get_experiment(s, experiment_id)
            return exp.status, exp.error

    def curve(self, run_id: int, key: str = "charts/episodic_return") -> tuple[list[int], list[float]]:
        """A candidate run's metric series (for the panel's curve)."""
        with self.workspace.session() as s:
            steps, values = repo.metric_series(s, run_id, key)
            return list(steps), [float(v) for v in values]

    def close(self) -> None:
        """Stop every live candidate run (each checkpoints) and release the runner."""
        for ctl in self._controllers.values():
            ctl.close()
        self.runner.close()


def _describe(action: loop.Action) -> str:
    if isinstance(action, loop.AwaitRanking):
        return f"round {action.round_index} awaits a ranking"
    if isinstance(action, loop.Done | loop.Failed):
        return action.reason
    return type(action).__name__.lower() + " " + ", ".join(
        f"{k}={v}" for k, v in asdict(action).items())  # type: ignore[call-overload]
