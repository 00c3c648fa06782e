"""Reward Studio: design reward functions visually, train on them live, export the code."""

__version__ = "0.1.0"
