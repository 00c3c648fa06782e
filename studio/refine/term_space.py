"""A design's linear term space: the components whose weights a preference fit may set.

A compiled design reports its total as a sum of signed, weighted *components* (terms of
sum groups, non-sum groups as one, events, shaping). Each component's effective weight is
its own weight times the weights of the sum groups above it. Setting every one of those to
1 gives the *unit design*, whose component returns are the per-term returns ``phi`` that
make the design's return linear: ``return = w . phi``. Components whose weight follows a
schedule are left out (their weight is not one number) and keep their schedule.

>>> from studio.core.design import Design, Group, Term
>>> d = Design("d", "T", Group("reward", [Term("speed", "v", weight=2.0),
...     Group("costs", [Term("effort", "u", weight=-0.5)], weight=0.2)]))
>>> space = TermSpace.of(d)
>>> space.names, space.weights(d)
(['speed', 'effort'], [2.0, -0.1])
>>> [t.weight for t in space.unit_design().terms()]  # the group keeps its 0.2
[1.0, 5.0]
>>> [round(t.weight, 6) for t in space.with_weights([3.0, -1.0]).terms()]
[3.0, -5.0]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from studio.core.design import Design, EventTerm, Group, Shaping, Term
from studio.core.schedule import Schedule

Node = Term | Group | EventTerm | Shaping


@dataclass
class TermSpace:
    """The linearly weighted components of one design structure."""

    design: Design
    names: list[str]
    """Component names, in the order the compiled design sums them."""

    @classmethod
    def of(cls, design: Design) -> TermSpace:
        """The term space of ``design`` (enabled components with numeric weights)."""
        return cls(design.copy(), [name for name, _, _ in _components(design)])

    def weights(self, design: Design | None = None) -> list[float]:
        """Effective weight of each component in ``design`` (default: this space's own)."""
        d = self.design if design is None else design
        eff = {name: float(node.weight) * outer for name, node, outer in _components(d)}  # type: ignore[arg-type]
        return [eff.get(n, 0.0) for n in self.names]

    def unit_design(self) -> Design:
        """The design with every component's effective weight 1 (its returns are ``phi``)."""
        return self.with_weights([1.0] * len(self.names))

    def with_weights(self, weights: Sequence[float]) -> Design:
        """This structure with the components' effective weights set to ``weights``.

        Sum-group weights are kept; each component's own weight absorbs the change, so
        the tree reads as the user wrote it. A zero outer weight is reset to 1.
        """
        if len(weights) != len(self.names):
            raise ValueError(f"expected {len(self.names)} weights ({', '.join(self.names)}), "
                             f"got {len(weights)}")
        d = self.design.copy()
        target = dict(zip(self.names, weights, strict=True))
        for name, node, outer in list(_components(d)):
            if name not in target:
                continue
            if outer == 0.0:
                _reset_outer(d.root, name)
                outer = 1.0
            node.weight = float(target[name]) / outer
        return d


def _components(design: Design) -> Iterator[tuple[str, Node, float]]:
    """(component name, node holding its weight, product of the sum-group weights above)."""

    def walk(group: Group, outer: float | None) -> Iterator[tuple[str, Node, float]]:
        for child in group.children:
            if not child.enabled:
                continue
            if isinstance(child, Group) and child.combiner == "sum":
                if isinstance(child.weight, Schedule):
                    continue
                yield from walk(child, None if outer is None else outer * float(child.weight))
            elif not isinstance(child.weight, Schedule) and outer is not None:
                yield child.name, child, outer

    root = design.root
    if root.enabled and root.combiner == "sum" and not isinstance(root.weight, Schedule):
        yield from walk(root, float(root.weight))
    elif root.enabled and not isinstance(root.weight, Schedule):
        yield root.name, root, 1.0
    for ev in design.events:
        if ev.enabled and not isinstance(ev.weight, Schedule):
            yield ev.name, ev, 1.0
    s = design.shaping
    if s is not None and s.enabled and not isinstance(s.weight, Schedule):
        yield s.name, s, 1.0


def _reset_outer(root: Group, name: str) -> None:
    """Set to 1 every zero-weight sum group on the path to ``name``."""

    def path(group: Group) -> list[Group] | None:
        for child in group.children:
            if child.name == name:
                return [group]
            if isinstance(child, Group):
                sub = path(child)
                if sub is not None:
                    return [group, *sub]
        return None

    for g in path(root) or []:
        if not isinstance(g.weight, Schedule) and float(g.weight) == 0.0:
            g.weight = 1.0
