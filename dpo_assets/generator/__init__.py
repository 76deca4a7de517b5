"""Raw-sample generation with a real LLM server (Ollama or OpenAI-compatible), for the autopilot.

``settings`` holds the configuration, ``client`` the one chat client (also used by the
scorecard), ``llm`` the implement → test → repair loop, ``batch`` the entry point that
dispatches the offline generator or the LLM one and writes the batch file.
"""
