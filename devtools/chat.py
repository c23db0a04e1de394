"""Chat with the running desk as a LINE user, in the terminal (`make chat`).

It drives the LINE simulator's control API (started by `make run`): what you type is sent as
a signed webhook event, and what the desk sends back (replies and pushes) is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

HELP = """Type a message and press Enter to send it. Commands:
  /follow            add the desk as a friend      /unblock     unblock the desk
  /unfollow          block the desk                /sticker     send a sticker
  /image | /video | /audio | /file                 send media (the desk should refuse it)
  /postback DATA     press a button carrying DATA
  /menu              show the rich menu you see    /tap N       tap its button N
  /redeliver         have LINE redeliver your last event
  /user NAME         become another user           /help        this text
  (empty line)       show what the desk sent since  /quit        leave"""


class Chat:
    """A terminal user of the LINE simulator."""

    def __init__(self, simulator: str, user: str) -> None:
        self.base = simulator.rstrip("/")
        self.user = user
        self.seen = 0
        self.last_event: str | None = None
        self.lock = threading.Lock()
        self.menu: list[dict[str, Any]] = []
        self.menu_id: str | None = None

    def call(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a user action to the simulator."""
        data = json.dumps(payload or {}).encode()
        url = f"{self.base}/_sim/users/{self.user}/{action}"
        request = urllib.request.Request(url, data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
        if result.get("eventIds"):
            self.last_event = result["eventIds"][-1]
        if result.get("status") not in (None, 200):
            print(f"  (the desk answered HTTP {result['status']}; LINE would redeliver)")
        return result

    def show_new(self) -> None:
        """Print messages the desk sent since the last look."""
        url = f"{self.base}/_sim/users/{self.user}/inbox?since={self.seen}"
        with urllib.request.urlopen(url, timeout=30) as response:
            messages = json.loads(response.read())["messages"]
        with self.lock:
            for item in messages:
                message = item["message"]
                template = message.get("template") or {}
                text = message.get("text") or template.get("text") or json.dumps(message)
                print(f"\n[desk via {item['via']}] {text}")
                buttons = template.get("actions", []) + [
                    chip.get("action", {})
                    for chip in (message.get("quickReply") or {}).get("items", [])
                ]
                for action in buttons:
                    print(f"    [{action.get('label')}] -> /postback {action.get('data')}")
            self.seen += len(messages)

    def show_menu(self, *, changed_only: bool = False) -> None:
        """Print the rich menu this user sees (with `changed_only`: only if it changed)."""
        url = f"{self.base}/_sim/users/{self.user}/menu"
        with urllib.request.urlopen(url, timeout=30) as response:
            shown = json.loads(response.read()).get("shown")
        menu_id = shown["richMenuId"] if shown else None
        if changed_only and menu_id == self.menu_id:
            return
        self.menu_id = menu_id
        self.menu = [area["action"] for area in shown["areas"]] if shown else []
        print(format_menu(shown))

    def command(self, line: str) -> bool:
        """Act on one typed line; False to quit."""
        word, _, rest = line.partition(" ")
        if not line.startswith("/"):
            self.call("say", {"text": line})
        elif word == "/quit":
            return False
        elif word == "/help":
            print(HELP)
        elif word == "/follow":
            self.call("follow")
        elif word == "/unblock":
            self.call("follow", {"unblocked": True})
        elif word == "/unfollow":
            self.call("unfollow")
        elif word == "/sticker":
            self.call("sticker")
        elif word in {"/image", "/video", "/audio", "/file"}:
            self.call("media", {"kind": word[1:]})
        elif word == "/postback":
            self.call("postback", {"data": rest})
        elif word == "/menu":
            self.show_menu()
        elif word == "/tap" and rest.strip().isdigit() and 1 <= int(rest) <= len(self.menu):
            self.call("postback", {"data": self.menu[int(rest) - 1].get("data", "")})
        elif word == "/redeliver" and self.last_event:
            self.call("redeliver", {"eventId": self.last_event})
        elif word == "/user" and rest:
            self.user, self.seen = rest.strip(), 0
            print(f"  you are now {self.user}")
        else:
            print("  unknown command; /help lists them")
        self.show_new()
        self.show_menu(changed_only=True)
        return True


def format_menu(shown: dict[str, Any] | None) -> str:
    """The rich menu as text: its chat bar and numbered buttons (for /tap N)."""
    if not shown:
        return "  (no rich menu: python -m ops.line_setup richmenus sets them up)"
    lines = [f"  [rich menu {shown.get('name')}: {shown.get('chatBarText')}]"]
    for n, area in enumerate(shown.get("areas", []), start=1):
        action = area.get("action", {})
        lines.append(f"    {n}. [{action.get('label')}] -> /postback {action.get('data')}")
    return "\n".join(lines)


def unreachable(simulator: str) -> str:
    """What to tell someone whose simulator does not answer: the port tried and the fix."""
    port = urlsplit(simulator).port
    return (
        f"No LINE simulator answers on {simulator} (port {port}).\n"
        "Start the desk with the simulator in another terminal (make run), then chat with the\n"
        "port its banner names: make chat LINESIM_PORT=<port> (the default is 7072)."
    )


def main(argv: list[str] | None = None) -> int:
    """Read lines until /quit or end of input; 2 when the simulator cannot be reached."""
    parser = argparse.ArgumentParser(description="Chat with the local desk as a LINE user.")
    parser.add_argument("--simulator", default="http://127.0.0.1:7072")
    parser.add_argument("--user", default="you")
    options = parser.parse_args(argv)
    chat = Chat(options.simulator, options.user)
    try:
        chat.show_new()  # also checks that the simulator answers before anything is typed
        print(HELP)
        chat.show_menu()
        print(f"You are {chat.user}. Start with /follow.")
        while True:
            line = input("> ").strip()
            if not line:
                chat.show_new()
            elif not chat.command(line):
                break
    except (EOFError, KeyboardInterrupt):
        print()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        print(unreachable(chat.base), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
