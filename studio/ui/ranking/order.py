"""The ranking being made: places (tiers) of videos, best first, with ties. Qt-free.

Videos are numbered by their cell, 0-based here (the keys and labels say 1 to 8). Keys
append: ``pick(3)`` puts video 3 in the next place; after :meth:`RankOrder.arm_tie`, the
next pick joins the last place instead (a tie). Drag and drop moves a video to any place
(:meth:`RankOrder.move`). Every change is a whole new list, so an undo stack or a test
can compare states.

>>> order = RankOrder(3)
>>> order.pick(2); order.arm_tie(); order.pick(0); order.pick(1)
>>> order.tiers, order.complete
([[2, 0], [1]], True)
"""

from __future__ import annotations

__all__ = ["RankOrder"]


class RankOrder:
    """Places of ``n`` videos; each place holds one video or several tied ones."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self.tiers: list[list[int]] = []
        self.tie_armed = False
        """The next pick joins the last place."""
        self._history: list[list[list[int]]] = []

    # --- reading -----------------------------------------------------------------------------
    @property
    def placed(self) -> set[int]:
        """Videos that have a place."""
        return {i for tier in self.tiers for i in tier}

    @property
    def unplaced(self) -> list[int]:
        """Videos without a place, in cell order."""
        placed = self.placed
        return [i for i in range(self.n) if i not in placed]

    @property
    def complete(self) -> bool:
        """Every video has a place."""
        return not self.unplaced

    def place_of(self, video: int) -> int | None:
        """The 0-based place of ``video`` (tied videos share one), or None."""
        for k, tier in enumerate(self.tiers):
            if video in tier:
                return k
        return None

    def mark(self, video: int) -> str:
        """``"best"``, ``"worst"`` or ``""``; marks appear once there are two places."""
        k = self.place_of(video)
        if k is None or len(self.tiers) < 2:
            return ""
        if k == 0:
            return "best"
        if k == len(self.tiers) - 1 and self.complete:
            return "worst"
        return ""

    def completed(self) -> list[list[int]]:
        """The tiers to save: with exactly one video left unplaced, it goes last."""
        left = self.unplaced
        if len(left) == 1:
            return [list(t) for t in self.tiers] + [left]
        return [list(t) for t in self.tiers]

    # --- changing ----------------------------------------------------------------------------
    def _remember(self) -> None:
        self._history.append([list(t) for t in self.tiers])

    def _remove(self, video: int) -> None:
        self.tiers = [[i for i in t if i != video] for t in self.tiers]
        self.tiers = [t for t in self.tiers if t]

    def pick(self, video: int) -> None:
        """Put ``video`` in the next place, or in the last place when a tie is armed."""
        if not 0 <= video < self.n:
            return
        self._remember()
        tie = self.tie_armed and bool(self.tiers)
        self.tie_armed = False
        self._remove(video)
        if tie and self.tiers:
            self.tiers[-1].append(video)
        else:
            self.tiers.append([video])

    def arm_tie(self) -> None:
        """Make the next pick join the last place (does nothing before the first pick)."""
        self.tie_armed = bool(self.tiers)

    def join_last(self) -> None:
        """Tie the last two places together."""
        if len(self.tiers) >= 2:
            self._remember()
            last = self.tiers.pop()
            self.tiers[-1].extend(last)

    def move(self, video: int, place: int, join: bool) -> None:
        """Drag and drop: put ``video`` into place ``place`` (``join``) or a new place before it.

        ``place`` counts the places as they are before the move; ``place == len(tiers)``
        with ``join`` false appends a new last place.
        """
        if not 0 <= video < self.n:
            return
        self._remember()
        old = self.place_of(video)
        alone = old is not None and len(self.tiers[old]) == 1
        self._remove(video)
        k = place
        if alone and old is not None:
            if join and place == old:  # dropped on its own place: it stays there
                join = False
            elif place > old:  # its place is gone, the later ones moved up
                k -= 1
        if join and 0 <= k < len(self.tiers):
            self.tiers[k].append(video)
        else:
            self.tiers.insert(min(max(k, 0), len(self.tiers)), [video])
        self.tie_armed = False

    def unplace(self, video: int) -> None:
        """Take ``video`` out of the ranking."""
        if video in self.placed:
            self._remember()
            self._remove(video)

    def undo(self) -> None:
        """Take back the last change."""
        self.tie_armed = False
        if self._history:
            self.tiers = self._history.pop()

    def clear(self) -> None:
        """Forget every place."""
        if self.tiers:
            self._remember()
        self.tiers = []
        self.tie_armed = False
