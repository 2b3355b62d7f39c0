"""Regenerate README.md's configuration reference from the settings models (`make readme`)."""

from pathlib import Path

from shadow.config import config_reference

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- config-reference:start -->\n", "\n<!-- config-reference:end -->"

text = README.read_text(encoding="utf-8")
head, rest = text.split(START, 1)
_, tail = rest.split(END, 1)
README.write_text(head + START + config_reference() + END + tail, encoding="utf-8")
print("README.md configuration reference updated")
