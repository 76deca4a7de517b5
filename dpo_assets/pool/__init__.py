"""The chosen pool: what happens to certified samples before they become DPO pairs."""
