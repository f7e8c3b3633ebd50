"""Answer generation: extractive answers offline, LLM answers through an OpenAI-compatible API."""
