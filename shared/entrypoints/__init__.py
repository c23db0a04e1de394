"""One func.Blueprint per trigger family: parse, call one service, map the result."""
