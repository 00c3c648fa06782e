"""The reward editor: design tree, feature catalogue, inspectors, shape curves, sessions.

- :mod:`.model`: :class:`~.model.DesignModel`, the design under edit and its undo stack;
  every change is an undoable command.
- :mod:`.tree`: the design tree as a Qt model (drag and drop) and its view (keyboard).
- :mod:`.catalog`: the searchable feature catalogue.
- :mod:`.inspector`, :mod:`.group_inspector`, :mod:`.params_form`: the forms that edit
  the selected term, group (and shaping) or event.
- :mod:`.curve`: a term's shape curve, redrawn as its parameters move.
- :mod:`.panel`: :class:`~.panel.RewardEditor`, the dock that puts these together.
- :mod:`.session`: the workspace, task loading and versions behind the main window.
- :mod:`.templates`: built-in starting designs.
"""
