"""The LINE user's side: the webhook's events, the conversation, the replies."""
