"""Meeting agents where they run: Claude Code statusline and hooks, MCP."""
