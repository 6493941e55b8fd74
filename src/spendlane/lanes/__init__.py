"""Fallback lanes: automated agent runs dispatched through spendlane, and what they cost.

`output` turns a run's own printed output (`claude -p --output-format json|stream-json`,
`codex exec --json`) into usage events and an outcome: success, the guardrail that stopped it,
a usage or rate limit and when it resets, or a crash that must be costed from the transcript.
"""
