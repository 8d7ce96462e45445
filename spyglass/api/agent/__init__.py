"""The agent API (/agent/v1/...): what agents call to register, heartbeat, fetch assignments and post results."""
