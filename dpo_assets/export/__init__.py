"""Shipping the adapter: GGUF conversion, Modelfile, Ollama deploy."""
