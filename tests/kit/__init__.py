"""The test kit: hand-written fakes of the desk's ports and helpers shared by the suites."""
