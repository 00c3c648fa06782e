"""The reward editor: design tree, feature catalogue, term and group inspectors, shape curves."""
