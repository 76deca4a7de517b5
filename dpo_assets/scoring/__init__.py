"""Scoring model completions on HumanEval(+)/MBPP(+) with the sandbox and a failure classifier."""
