"""Identity: identifier normalisation, the identity graph, probabilistic matching, review."""
