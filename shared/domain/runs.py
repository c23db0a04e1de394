"""What one run of a timer did, as one summary line for the log."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunSummary:
    """Counts of one timer run: what it examined, what it acted on, what it skipped and why.

    `action` names what acting means for this task (`purged`, `closed`, `removed`);
    `skipped` maps a reason (e.g. `grace`: still inside the grace period) to a count.
    """

    task: str
    action: str
    examined: int
    acted: int
    skipped: dict[str, int] = field(default_factory=dict)
    # What the action is made of, when a task acts on several kinds of thing (e.g. sessions=…).
    parts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """`purge_suspended examined=3 purged=1 skipped=2 grace=2`: counts, never identities."""
        reasons = "".join(f" {reason}={n}" for reason, n in sorted(self.skipped.items()) if n)
        total = sum(self.skipped.values())
        parts = "".join(f" {name}={n}" for name, n in self.parts.items())
        return (
            f"{self.task} examined={self.examined} {self.action}={self.acted}{parts}"
            f" skipped={total}{reasons}"
        )
