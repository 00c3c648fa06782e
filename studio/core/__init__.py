"""The reward-design model: features, shapes, combiners, expressions, designs, compilation.

Nothing here imports Qt or SQL; everything here runs on plain Python, numpy and torch.
"""
