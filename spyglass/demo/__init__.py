"""`spyglass demo`: a demo organization, local targets on loopback, three tests with history, and a live agent."""
