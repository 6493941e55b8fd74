"""Provider names as people write them (claude, gpt, kimi) and as the ledger stores them.

Kept apart from everything else so that `spendlane check`, which maps a provider name on every
call, imports nothing more for it.
"""

from __future__ import annotations

BACKENDS: dict[str, str] = {
    "claude": "anthropic", "anthropic": "anthropic",
    "gpt": "openai", "openai": "openai", "codex": "openai",
    "kimi": "moonshotai", "moonshot": "moonshotai", "moonshotai": "moonshotai",
    "gemini": "google", "google": "google",
    "deepseek": "deepseek", "mistral": "mistral", "groq": "groq",
    "local": "local", "ollama": "local", "lmstudio": "local",
}  # fmt: skip
