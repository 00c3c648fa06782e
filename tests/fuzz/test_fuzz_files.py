"""Fuzzed untrusted text and files: LLM replies, reward code, MJCF models, traces and videos.

Each reader answers anything with its own error class (a message naming the problem),
never another exception or a hang; the ``fuzz`` settings are those of
:mod:`tests.fuzz.test_fuzz_inputs` (``STUDIO_FUZZ_EXAMPLES``). Videos are read by an
``ffmpeg`` process per example, so that test runs a tenth as many.
"""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.app.rollouts import RolloutTrace
from studio.core.schema import design_schema
from studio.export.importer import ImportError_, import_reward
from studio.refine.reply import ReplyError, check_reply
from studio.sim.tasks.generic import MjcfError, MjcfTask
from studio.sim.video import VideoError, read_video_frames, record_frames
from tests.fuzz.strategies import FEATURES, design_docs, expressions, names, raw_text
from tests.fuzz.test_fuzz_inputs import EXAMPLES, fuzz

# --- LLM replies -------------------------------------------------------------------------------

_SCHEMA = design_schema()
_prose = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def replies(draw: st.DrawFn) -> str:
    """What a model might answer: prose around a (possibly broken) document in a fence."""
    import json

    doc = json.dumps(draw(design_docs), allow_nan=True)
    cut = draw(st.integers(0, len(doc)))
    body = draw(st.sampled_from([doc, doc[:cut], doc + "}", doc.replace('"', "'", 1)]))
    fence = draw(st.sampled_from(["```json\n{}\n```", "```\n{}\n```", "{}", "```json\n{}",
                                  "```JSON {}```", "<design>{}</design>"]))
    return draw(_prose) + fence.replace("{}", body, 1) + draw(_prose)


@fuzz
@given(st.one_of(replies(), raw_text))
def test_llm_replies_give_a_design_or_a_reply_error(text: str) -> None:
    try:
        design = check_reply(text, "HalfCheetah-v5", FEATURES, _SCHEMA)
    except ReplyError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert design.task == "HalfCheetah-v5" and design.terms()


# --- reward code to import ---------------------------------------------------------------------

_statements = st.one_of(
    expressions.map(lambda e: f"r = {e}"),
    expressions.map(lambda e: f"if {e}:\n        r = r + 1\n    else:\n        r = -r"),
    expressions.map(lambda e: f"r += {e}"),
    st.sampled_from([
        "while True:\n        pass", "import os", "os.system('true')", "for i in range(10**9):\n        r += i",
        "r = (lambda v: v)(r)", "del r", "global r", "r: float = 1", "yield r", "r = [i for i in x_velocity]",
        "r = compute_reward(x_velocity, ctrl_sq)", "raise ValueError", "with open('f') as f:\n        r = 1",
        "a, b = x_velocity", "r = x_velocity.__class__", "try:\n        r = 1\n    except Exception:\n        r = 2",
        "return", "return r, {'a': r}", "return {'a': r}", "r = 1 if x_velocity else 2",
    ]),
)


@st.composite
def reward_sources(draw: st.DrawFn) -> str:
    """A ``compute_reward`` function (Eureka's shape) built from fragments, or a piece of one."""
    args = draw(st.lists(st.one_of(st.sampled_from(FEATURES), names), min_size=0, max_size=3,
                         unique=True))
    body = draw(st.lists(_statements, min_size=0, max_size=4))
    ret = draw(st.one_of(expressions.map(lambda e: f"return {e}"),
                         st.just("return r, {'speed': r}"), st.just("")))
    lines = [f"def {draw(st.sampled_from(['compute_reward', 'other']))}({', '.join(args)}):",
             *(f"    {s}" for s in body), f"    {ret}" if ret else "    pass"]
    source = "\n".join(lines) + "\n"
    return source[:draw(st.integers(0, len(source)))] if draw(st.booleans()) else source


@fuzz
@given(st.one_of(reward_sources(), raw_text))
def test_reward_code_imports_or_gives_an_import_error(source: str) -> None:
    try:
        result = import_reward(source, "HalfCheetah-v5", FEATURES, function="compute_reward",
                               allow_code=True)
    except ImportError_ as exc:
        assert str(exc)
        return
    assert result.design.task == "HalfCheetah-v5"
    assert all(i.message for i in result.issues)


# --- MJCF models ------------------------------------------------------------------------------

_PENDULUM = (Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"
             / "inverted_pendulum.xml").read_text()
_numbers = st.one_of(st.floats(-10, 10, allow_nan=False).map(lambda v: f"{v:.3g}"),
                     st.sampled_from(["0", "-1", "nan", "inf", "1e309", "", "a", "1 2 3 4 5"]))
_bodies = st.recursive(
    st.builds(lambda n, t, s: f'<geom name="{n}" type="{t}" size="{s}"/>', names,
              st.sampled_from(["sphere", "capsule", "box", "plane", "mesh", "nope"]), _numbers),
    lambda inner: st.builds(
        lambda n, j, kids: f'<body name="{n}" pos="0 0 1"><joint name="j{n}" type="{j}"/>'
                           f'{"".join(kids)}</body>',
        names, st.sampled_from(["hinge", "slide", "ball", "free", "nope"]), st.lists(inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def mjcf_texts(draw: st.DrawFn) -> str:
    """A model from fragments (with actuators that may name missing joints), or a cut-off real one."""
    if draw(st.booleans()):
        return _PENDULUM[:draw(st.integers(0, len(_PENDULUM)))]
    bodies = "".join(draw(st.lists(_bodies, max_size=3)))
    motors = "".join(f'<motor joint="{j}" gear="{g}"/>' for j, g in
                     draw(st.lists(st.tuples(names.map(lambda n: "j" + n), _numbers), max_size=2)))
    return (f'<mujoco model="{draw(names)}"><option timestep="{draw(_numbers)}"/>'
            f"<worldbody>{bodies}</worldbody><actuator>{motors}</actuator></mujoco>")


@fuzz
@given(text=st.one_of(mjcf_texts(), raw_text))
def test_a_malformed_mjcf_file_is_an_mjcf_error_naming_the_file(
        tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("m") / "model.xml"
    path.write_text(text)
    try:
        task = MjcfTask(str(path))
    except MjcfError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert task.model.nq >= 0  # it compiled: a usable model


# --- truncated and damaged traces and videos -----------------------------------------------------


def _trace_bytes(folder: Path) -> bytes:
    steps = 6
    trace = RolloutTrace("InvertedPendulum-v5", {"x_velocity": np.arange(steps, dtype=float)},
                         {"speed": np.ones(steps)}, {"speed": np.ones(steps)}, np.ones(steps),
                         np.zeros(steps), np.zeros(steps, bool), np.zeros(steps, bool),
                         np.zeros((steps, 1)), np.zeros((steps, 4)), qpos=np.zeros((steps + 1, 2)))
    path = folder / "good.npz"
    trace.save(path)
    return path.read_bytes()


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` cut short, with a few bytes overwritten, or both."""
    cut = draw(st.integers(0, len(data)))
    out = bytearray(data[:cut] if draw(st.booleans()) else data)
    for _ in range(draw(st.integers(0, 3))):
        if out:
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("good")
    video = folder / "good.mp4"
    record_frames(video, (np.full((16, 16, 3), 8 * i, np.uint8) for i in range(12)), fps=10,
                  preset="ultrafast")
    return {"trace": _trace_bytes(folder), "video": video.read_bytes()}


@fuzz
@given(data=st.data())
def test_a_truncated_or_damaged_trace_is_a_value_error_naming_the_file(
        good_files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory,
        data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("t") / "rollout.npz"
    path.write_bytes(data.draw(damaged(good_files["trace"])))
    try:
        trace = RolloutTrace.load(path)
    except ValueError as exc:
        assert str(path) in str(exc)
        return
    assert trace.length == 6  # a flipped byte zip's CRC did not catch would be a bug


@settings(fuzz, max_examples=max(10, EXAMPLES // 10))
@given(data=st.data())
def test_a_truncated_or_damaged_video_is_a_video_error(
        good_files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory,
        data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("v") / "rollout.mp4"
    path.write_bytes(data.draw(damaged(good_files["video"])))
    try:
        frames = read_video_frames(path)
    except VideoError as exc:
        assert str(path) in str(exc)
        return
    assert frames.dtype == np.uint8 and frames.shape[1:] == (16, 16, 3) and len(frames) <= 12


def test_the_ranking_service_reports_a_damaged_trace_as_a_ranking_error(tmp_path: Path) -> None:
    from studio.app.ranking import RankingError, RankingService
    from studio.store import Workspace, repo

    with Workspace.open(tmp_path / "ws") as ws:
        path, rel = ws.media_path("rollouts", "cut.npz")
        path.write_bytes(_trace_bytes(tmp_path)[:100])
        with ws.session() as s:
            rollout_id = repo.add_rollout(s, env_id="InvertedPendulum-v5", trace_path=rel,
                                          length=6, policy="random").id
        with pytest.raises(RankingError, match="is not a readable rollout trace"):
            RankingService(ws).load_trace(rollout_id)
    assert os.path.exists(path)  # reading never deletes what it cannot read
