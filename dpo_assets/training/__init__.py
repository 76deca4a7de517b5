"""Model side: the base model (real or the offline stand-in) and DPO training."""
