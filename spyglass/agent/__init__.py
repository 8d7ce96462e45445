"""The spyglass agent runtime: runs assigned tests in rounds and posts results over the agent API.

It talks to the server only over HTTP and never imports Django, so it runs on any machine with the package."""

VERSION = "0.1.0"
