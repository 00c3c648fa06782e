"""Playing a chosen checkpoint never unpickles code: weights_only loading, a clear refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from studio.app.rollouts import CheckpointFileError, policy_from_checkpoint
from studio.errors import user_message


class Planted:
    """What a malicious file holds: unpickling it would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, int]]:
        return (os.open, (str(self.marker), os.O_CREAT | os.O_WRONLY))


def test_a_file_with_pickled_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoint.pt"
    torch.save({"agent": {}, "config": {}, "payload": Planted(marker)}, path)
    with pytest.raises(CheckpointFileError) as info:
        policy_from_checkpoint(str(path))
    assert not marker.exists()
    assert user_message(info.value) is not None and str(path) in str(info.value)
    assert "never loaded" in str(info.value)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointFileError, match="not a checkpoint the studio can play"):
        policy_from_checkpoint(str(path))
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointFileError, match="no policy in it"):
        policy_from_checkpoint(str(path))
