"""The task picker: which MuJoCo task a new design is for.

Three ways to name a task, as ``studio.sim.registry.get_task`` accepts them:

* one of the registered tasks (the ten built-in Gymnasium v5 tasks and any plugin's),
  each with a thumbnail and its one-line description;
* any other installed Gymnasium MuJoCo id (typed, or chosen from the ids Gymnasium
  lists), stepped through Gymnasium itself;
* an MJCF file (``.xml``), with features found automatically.

The dialog only chooses; the main window loads the task (in a worker) and starts the
design from its own reward. It opens from File › New design › For a task… and on a
workspace that holds no design yet.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["TaskPicker", "builtin_tasks", "design_name_for", "gymnasium_mujoco_ids", "thumbnail_path"]

THUMBNAILS = Path(__file__).resolve().parent / "resources" / "tasks"
ROLE = Qt.ItemDataRole.UserRole


def thumbnail_path(env_id: str) -> Path | None:
    """The committed thumbnail of a built-in task (``scripts/make_task_thumbnails.py``)."""
    path = THUMBNAILS / f"{env_id}.png"
    return path if path.is_file() else None


def builtin_tasks() -> list[tuple[str, str]]:
    """``(env id, one-line description)`` of every registered task, in registration order."""
    from studio.sim.registry import default_registry

    return [(e.env_id, e.title or e.env_id) for e in default_registry().entries()]


def gymnasium_mujoco_ids(exclude: set[str] | None = None) -> list[str]:
    """Installed Gymnasium env ids whose entry point is a MuJoCo env (newest version first)."""
    try:
        import gymnasium as gym
    except ImportError:
        return []
    out = []
    for env_id, spec in gym.envs.registry.items():
        entry = spec.entry_point if isinstance(spec.entry_point, str) else ""
        if "mujoco" in entry and env_id not in (exclude or set()):
            out.append(env_id)
    return sorted(out, key=lambda i: (i.rsplit("-v", 1)[0], -_version(i)))


def _version(env_id: str) -> int:
    m = re.search(r"-v(\d+)$", env_id)
    return int(m.group(1)) if m else 0


def design_name_for(task: str) -> str:
    """A design name for a task id or file: ``Hopper-v5`` -> ``hopper``, ``robot.xml`` -> ``robot``."""
    stem = Path(task).stem if task.lower().endswith((".xml", ".mjcf")) else task
    stem = re.sub(r"-v\d+$", "", stem)
    stem = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", stem)
    name = re.sub(r"\W+", "_", stem).strip("_").lower() or "design"
    return name if not name[0].isdigit() else f"d_{name}"


class TaskPicker(QDialog):
    """Choose a task (and the new design's name); :meth:`selected_task` after ``accept``."""

    def __init__(self, parent: QWidget | None = None, current: str | None = None,
                 title: str = "New design for a task") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("task_picker")
        self._name_edited = False
        intro = QLabel("Choose the task the design rewards. The design starts from the "
                       "task's own reward, split into its terms.")
        intro.setWordWrap(True)

        self.builtin_radio = QRadioButton("A built-in task")
        self.builtin_radio.setChecked(True)
        self.tasks = QListWidget()
        self.tasks.setObjectName("task_list")
        self.tasks.setIconSize(QSize(96, 72))
        self.tasks.setSpacing(2)
        self.tasks.setMinimumHeight(300)
        self.tasks.setWordWrap(True)
        self.tasks.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tasks.setToolTip("Double-click a task to create the design at once")
        for env_id, text in builtin_tasks():
            item = QListWidgetItem(f"{env_id}\n{_description(text)}")
            item.setData(ROLE, env_id)
            item.setToolTip(text)
            thumb = thumbnail_path(env_id)
            if thumb is not None:
                item.setIcon(QIcon(QPixmap(str(thumb))))
            self.tasks.addItem(item)
        self.tasks.currentItemChanged.connect(lambda *_: self._chose(self.builtin_radio))
        self.tasks.itemDoubleClicked.connect(lambda _i: self.accept())

        self.gym_radio = QRadioButton("Another installed Gymnasium MuJoCo id")
        self.gym_combo = QComboBox()
        self.gym_combo.setEditable(True)
        self.gym_combo.setObjectName("gym_id")
        builtin = {self.tasks.item(i).data(ROLE) for i in range(self.tasks.count())}
        self.gym_combo.addItems(gymnasium_mujoco_ids(builtin))
        self.gym_combo.setCurrentIndex(-1)
        self.gym_combo.lineEdit().setPlaceholderText("e.g. Hopper-v4")
        self.gym_combo.setToolTip("Any Gymnasium env id whose simulation is MuJoCo; it is "
                                  "stepped through Gymnasium and its features found automatically")
        self.gym_combo.currentTextChanged.connect(lambda _t: self._chose(self.gym_radio))

        self.file_radio = QRadioButton("An MJCF model file")
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("path/to/robot.xml")
        self.file_edit.textChanged.connect(lambda _t: self._chose(self.file_radio))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(browse)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("design_name")
        self.name_edit.textEdited.connect(self._on_name_edited)
        form = QFormLayout()
        form.addRow("Design name", self.name_edit)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create design")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.builtin_radio)
        lay.addWidget(self.tasks, 1)
        lay.addWidget(self.gym_radio)
        lay.addWidget(self.gym_combo)
        lay.addWidget(self.file_radio)
        lay.addLayout(file_row)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        for radio in (self.builtin_radio, self.gym_radio, self.file_radio):
            radio.toggled.connect(lambda _on: self._update())
        self.resize(720, 760)
        self.select(current or "HalfCheetah-v5")

    # --- API -----------------------------------------------------------------------------
    def select(self, task: str) -> None:
        """Preselect ``task`` (a registered id, another Gymnasium id or a file path)."""
        for i in range(self.tasks.count()):
            if self.tasks.item(i).data(ROLE) == task:
                self.tasks.setCurrentRow(i)
                self.builtin_radio.setChecked(True)
                self._update()
                return
        if task.lower().endswith((".xml", ".mjcf")):
            self.file_edit.setText(task)
        else:
            self.gym_combo.setCurrentText(task)
        self._update()

    def selected_task(self) -> str:
        """The chosen task id or MJCF path ("" when nothing usable is chosen)."""
        if self.builtin_radio.isChecked():
            item = self.tasks.currentItem()
            return str(item.data(ROLE)) if item is not None else ""
        if self.gym_radio.isChecked():
            return self.gym_combo.currentText().strip()
        return self.file_edit.text().strip()

    def design_name(self) -> str:
        """The name the new design gets."""
        return self.name_edit.text().strip() or design_name_for(self.selected_task())

    # --- internals -------------------------------------------------------------------------
    def _chose(self, radio: QRadioButton) -> None:
        if not radio.isChecked():
            radio.setChecked(True)
        self._update()

    def _on_name_edited(self, _text: str) -> None:
        self._name_edited = True

    def _update(self) -> None:
        task = self.selected_task()
        if not self._name_edited:
            self.name_edit.setText(design_name_for(task) if task else "")
        ok = bool(task) and (not self.file_radio.isChecked() or Path(task).expanduser().is_file())
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        button.setEnabled(ok)
        button.setToolTip("" if ok else "choose a task, type a Gymnasium id or pick an existing file")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MJCF model", str(Path.cwd()),
                                              "MuJoCo models (*.xml *.mjcf);;All files (*)")
        if path:
            self.file_edit.setText(path)


def _description(title: str) -> str:
    """The part of a task title after ``Name:`` (the id is shown above it)."""
    return title.split(":", 1)[1].strip() if ":" in title else title
