"""Live updates over WebSocket (issue 20): who is connected (registry), what they asked
for (topics), who may receive a change (audience) and the after-commit push (publisher)."""
