"""Developer tools, never deployed: the local Functions host, the LINE simulator, the chat."""
