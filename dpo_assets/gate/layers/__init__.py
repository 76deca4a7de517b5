"""Gate layers: one module per layer of the fixed numbering."""
