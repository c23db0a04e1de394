"""Pure logic and dataclasses: no azure.*, no linebot.*, no I/O."""
