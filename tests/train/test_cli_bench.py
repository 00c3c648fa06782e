"""The train CLI, the presets and ``bench train``, end to end on short runs with the real stepper."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from studio.train import bench_train, cli_train
from studio.train.envs import catalog_names, make_env, task_design_document
from studio.train.loop import checkpoint_path, load_checkpoint
from studio.train.messages import Marker, Metrics, Progress
from studio.train.ppo import PPO, PPOConfig

ENV = "InvertedPendulum-v5"


def test_cli_trains_with_the_tuned_preset_by_default_and_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    design = tmp_path / "d.json"
    design.write_text(json.dumps(task_design_document(ENV)))
    code = cli_train.main([str(design), "--env", ENV, "--steps", "256", "--device", "cpu",
                           "--run-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0
    assert "256/256 steps" in out and "steps/s" in out and "completed at step 256" in out
    assert "\r" not in out  # not a TTY: plain lines
    state = load_checkpoint(checkpoint_path(tmp_path / "run"))  # weights_only=True
    assert state["global_step"] == 256
    # RL Zoo's ppo.yml, InvertedPendulum-v2: n_steps 32, batch_size 64, n_epochs 5,
    # learning_rate 0.000222425, vf_coef 0.19816 (SB3's full MSE: ours doubled), constant lr.
    cfg = state["config"]
    assert (cfg["num_envs"], cfg["num_steps"], cfg["update_epochs"]) == (1, 32, 5)
    assert cfg["num_minibatches"] == 1  # SB3 takes the whole 32-step rollout as one minibatch
    assert cfg["learning_rate"] == 0.000222425 and cfg["anneal_lr"] is False
    assert cfg["vf_coef"] == pytest.approx(2 * 0.19816) and cfg["clip_vloss"] is False


def test_cli_keeps_the_earlier_default_by_name(tmp_path: Path) -> None:
    args = cli_train.build_parser().parse_args(["task", "--env", ENV, "--steps", "100000", "--preset", "cleanrl"])
    c = cli_train.config_from_args(args)
    assert isinstance(c, PPOConfig)
    assert (c.num_envs, c.num_steps, c.num_minibatches, c.update_epochs) == (8, 256, 32, 10)
    assert c.anneal_lr and c.learning_rate == 3e-4 and c.activation == "tanh"


def test_cli_rejects_an_unknown_preset_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_train.main(["task", "--env", ENV, "--steps", "64", "--preset", "fastest"]) == 2
    err = capsys.readouterr().err
    assert "fastest" in err and "zoo, zoo-gpu, cleanrl" in err and "Traceback" not in err


def test_cli_rejects_a_bad_design_file_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cli_train.main([str(bad), "--env", "HalfCheetah-v5", "--steps", "10"]) == 2
    assert "line 1" in capsys.readouterr().err


def test_progress_line_on_a_tty_rewrites_in_place() -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    out = Tty()
    printer = cli_train.ProgressPrinter(out)  # type: ignore[arg-type]
    printer(Progress(2048, 8192, 3000.0, 2.0, float("nan")))
    printer(Progress(4096, 8192, 3000.0, 1.4, 12.5))
    assert out.text.count("\r") == 2 and "\n" not in out.text
    assert "4,096/8,192 steps" in out.text and "return 12.5" in out.text and "00:01 left" in out.text


def test_resume_markers_print_in_words() -> None:
    say = cli_train.describe_marker
    assert say(Marker(4096, "restored", {"path": "runs/a/checkpoint.pt"})) == \
        "resumed at step 4,096 from runs/a/checkpoint.pt"
    assert say(Marker(4096, "replay", {"restored": 4096, "relabel_s": 0.0312})) == \
        "replay buffer restored: 4,096 transitions, re-labelled in 0.03 s"
    assert "written at step 6,144" in say(Marker(4096, "replay", {"restored": 0, "reason": "written at step 6,144"}))
    assert say(Marker(10, "paused")) == "paused at step 10 "


def test_ppo_on_the_real_vector_env_pays_the_task_reward_through_the_design() -> None:
    env_id = "HalfCheetah-v5"
    cfg = PPOConfig(total_timesteps=2048, num_envs=4, num_steps=256, num_minibatches=4, update_epochs=1,
                    max_episode_steps=100, device="cpu")
    env = make_env(env_id, cfg.num_envs, cfg.seed, cfg.max_episode_steps)
    trainer = PPO(cfg, env, task_design_document(env_id), feature_names=catalog_names(env_id))
    values = next(m for m in trainer.train_update() if isinstance(m, Metrics)).values
    env.close()
    # The task design reproduces Gymnasium's reward: the design's return is the task score.
    assert values["charts/episodic_return"] == pytest.approx(values["charts/task_score"], rel=1e-4, abs=1e-3)
    parts = values["Episode_Reward/forward"] + values["Episode_Reward/ctrl_cost"]
    assert parts == pytest.approx(values["charts/episodic_return"], rel=1e-5, abs=1e-3)


def _bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict[str, dict], dict[str, str]]:
    assert bench_train.main(["--env", ENV, "--device", "cpu", *args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    configs = {ln.split()[1]: json.loads(ln.split(" ", 2)[2]) for ln in lines if ln.startswith("CONFIG ")}
    assert lines[-1].startswith("RESULT ")
    return configs, dict(kv.split("=") for kv in lines[-1].split()[1:])


RESULT_KEYS = ["studio_steps_per_s", "sb3_steps_per_s", "speedup", "studio_return", "sb3_return",
               "studio_time_to_target_s", "sb3_time_to_target_s", "time_ratio", "studio_return_std",
               "sb3_return_std", "studio_time_to_target_std", "sb3_time_to_target_std", "studio_reached",
               "sb3_reached", "target", "seeds"]


def test_bench_trains_both_sides_with_one_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    configs, fields = _bench(capsys, "--steps", "512", "--envs", "2", "--epochs", "1", "--seeds", "2",
                             "--target-return", "sb3")
    studio, sb3 = configs["studio"], configs["sb3"]
    for key in bench_train.REQUIRED_KEYS:
        assert studio[key] == pytest.approx(sb3[key]), key
    # The fair default: the studio's earlier settings (2048 in all over the envs, lr 3e-4 annealed,
    # both normalisations) and the same value-loss weight on the squared error on both sides.
    assert (sb3["rollout_batch"], sb3["minibatch_size"], sb3["lr_schedule"]) == (2048, 64, "linear")
    assert sb3["norm_obs"] and sb3["norm_reward"] and sb3["vf_mse_weight"] == studio["vf_mse_weight"] == 0.25
    assert list(fields) == RESULT_KEYS
    assert float(fields["studio_steps_per_s"]) > 0 and float(fields["sb3_steps_per_s"]) > 0
    assert math.isfinite(float(fields["studio_return"])) and math.isfinite(float(fields["sb3_return"]))
    assert fields["seeds"] == "2" and fields["sb3_reached"].endswith("/2")
    assert float(fields["target"]) == pytest.approx(float(fields["sb3_return"]))


def test_bench_gives_sb3_its_own_preset_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    configs, _ = _bench(capsys, "--steps", "64", "--preset", "cleanrl", "--sb3-preset", "zoo", "--envs", "1",
                        "--rollout", "64", "--epochs", "1")
    assert configs["studio"]["learning_rate"] == 3e-4
    assert configs["sb3"]["learning_rate"] == 0.000222425 and configs["sb3"]["lr_schedule"] == "constant"


def test_bench_compares_the_sacs_with_the_same_result_keys(capsys: pytest.CaptureFixture[str]) -> None:
    configs, fields = _bench(capsys, "--algo", "sac", "--steps", "200", "--learning-starts", "150")
    for key in bench_train.REQUIRED_KEYS:
        assert configs["studio"][key] == configs["sb3"][key], key
    assert configs["sb3"]["minibatch_size"] == 256 and configs["sb3"]["learning_starts"] == 150
    assert list(fields) == RESULT_KEYS and float(fields["sb3_steps_per_s"]) > 0


def test_time_to_target_is_the_first_crossing() -> None:
    r = bench_train.BenchResult(100, 10.0, [(1.0, -5.0), (2.0, 3.0), (3.0, 1.0), (4.0, 7.0)])
    assert r.time_to(2.0) == 2.0 and r.time_to(7.0) == 4.0
    assert math.isnan(r.time_to(8.0)) and math.isnan(r.time_to(None))
    assert r.final_return == 7.0 and r.steps_per_s == 10.0


def test_the_curves_of_both_sides_are_read_at_the_same_moments(capsys: pytest.CaptureFixture[str]) -> None:
    fast = bench_train.BenchResult(100, 4.0, [(1.0, 10.0), (3.0, 30.0)])
    slow = [bench_train.BenchResult(100, 8.0, [(2.0, 5.0), (6.0, 7.0)]),
            bench_train.BenchResult(100, 8.0, [(2.0, 1.0), (5.0, 9.0)])]
    marks = bench_train.curve_marks({"studio": [fast], "sb3": slow}, points=4)
    assert marks == [2.0, 4.0, 6.0, 8.0]  # to the longest run, whichever side it is
    # At 4 s the studio shows its last value and keeps it after its end; none before its first.
    assert bench_train.return_at(fast, 4.0) == 30.0 == bench_train.return_at(fast, 6.0)
    assert math.isnan(bench_train.return_at(fast, 0.5))
    bench_train.print_curve("sb3", slow, marks)
    assert capsys.readouterr().out.strip().endswith("2s:3  4s:3  6s:8  8s:8")


def test_a_checkpoint_with_pickled_code_is_refused(tmp_path: Path) -> None:
    class Planted:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("ran",))

    path = tmp_path / "checkpoint.pt"
    torch.save({"global_step": 1, "x": Planted()}, path)
    with pytest.raises(Exception, match="Weights only load failed"):
        load_checkpoint(path)


def test_bench_runs_seeds_side_by_side_in_worker_processes(capsys: pytest.CaptureFixture[str]) -> None:
    # Reacher's 50-step episodes: 10 of them end within 640 steps, so each side has a return.
    assert bench_train.main(["--env", "Reacher-v5", "--device", "cpu", "--steps", "640", "--envs", "1",
                             "--rollout", "128", "--epochs", "1", "--seeds", "2", "--jobs", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "2 seed(s) at once" in lines[0]
    fields = dict(kv.split("=") for kv in lines[-1].split()[1:])
    assert fields["seeds"] == "2" and fields["sb3_reached"] == "0/2"  # no target: nothing reached
    for side in ("studio", "sb3"):
        assert math.isfinite(float(fields[f"{side}_return"])) and math.isfinite(float(fields[f"{side}_return_std"]))


def test_bench_refuses_more_jobs_than_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_train.main(["--steps", "64", "--seeds", "1", "--jobs", "2"])
    assert exc.value.code == 2 and "--jobs" in capsys.readouterr().err
