"""The train CLI and the benchmark, end to end on short runs; the real VectorEnv with PPO."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from studio.train import bench_train, cli_train
from studio.train.envs import catalog_names, make_env, task_design_document
from studio.train.loop import checkpoint_path, load_checkpoint
from studio.train.messages import Metrics, Progress
from studio.train.ppo import PPO, PPOConfig
from tests.train._gym_vec import task_design

FACTORY = "tests.train._gym_vec:GymVectorEnv"


def test_cli_trains_a_design_file_and_checkpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    design = tmp_path / "d.json"
    design.write_text(json.dumps(task_design("InvertedPendulum-v5").to_json()))
    code = cli_train.main([str(design), "--env", "InvertedPendulum-v5", "--steps", "1024", "--envs", "2",
                           "--epochs", "1", "--device", "cpu", "--run-dir", str(tmp_path / "run"),
                           "--env-factory", FACTORY])
    out = capsys.readouterr().out
    assert code == 0
    assert "1,024/1,024 steps" in out and "steps/s" in out and "completed at step 1,024" in out
    assert "\r" not in out  # not a TTY: plain lines
    assert load_checkpoint(checkpoint_path(tmp_path / "run"))["global_step"] == 1024


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


def test_bench_result_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_train.main(["--env", "HalfCheetah-v5", "--steps", "2048", "--envs", "4", "--epochs", "1",
                             "--device", "cpu", "--skip-sb3", "--target-return=-1e9"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("RESULT studio_steps_per_s=")
    fields = dict(kv.split("=") for kv in last.split()[1:])
    assert list(fields) == ["studio_steps_per_s", "sb3_steps_per_s", "speedup", "studio_return", "sb3_return",
                            "studio_time_to_target_s", "sb3_time_to_target_s", "time_ratio"]
    assert float(fields["studio_steps_per_s"]) > 0 and fields["sb3_steps_per_s"] == "nan"


def test_time_to_target_is_the_first_crossing() -> None:
    r = bench_train.BenchResult(100, 10.0, [(1.0, -5.0), (2.0, 3.0), (3.0, 1.0), (4.0, 7.0)])
    assert r.time_to(2.0) == 2.0 and r.time_to(7.0) == 4.0
    assert math.isnan(r.time_to(8.0)) and math.isnan(r.time_to(None))
    assert r.final_return == 7.0 and r.steps_per_s == 10.0
