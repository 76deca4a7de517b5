"""dpo-assets: certify autopilot code samples, build clean DPO pairs, train, score, ship."""

__version__ = "0.1.0"
