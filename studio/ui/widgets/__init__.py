"""Small widgets shared by the panels: a parameter slider, an expression line with errors."""

from studio.ui.widgets.expression_edit import ExpressionEdit
from studio.ui.widgets.message_label import MessageLabel
from studio.ui.widgets.param_slider import ParamSlider

__all__ = ["ExpressionEdit", "MessageLabel", "ParamSlider"]
