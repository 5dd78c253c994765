"""The README's module reference, generated from each module's variables.tf and outputs.tf.

python3 tools/reference.py           # rewrite the "## Module reference" section of README.md
python3 tools/reference.py --check   # fail when that section is stale (run by tools/check)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Module reference"
ORDER = [
    "serverless",
    "sumu",
    "chatbot",
    "database",
    "integration",
    "gateway",
    "authorizer",
    "connections",
    "pusher",
    "presence",
    "pipeline",
    "function",
]


def blocks(text, kind):
    for m in re.finditer(rf'^{kind} "([^"]+)" \{{', text, re.M):
        depth, i = 0, m.end() - 1
        while True:
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        yield m.group(1), text[m.end() : i]


def attr(body, name):
    m = re.search(rf"^  {name}\s*=\s*", body, re.M)
    if not m:
        return None
    i, depth, start = m.end(), 0, m.end()
    while i < len(body):
        c = body[i]
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == '"':
            i += 1
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                i += 1
        elif c == "\n" and depth == 0:
            break
        i += 1
    return body[start:i].strip()


def flat(value):
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    text = lines[0] if lines else ""
    for line in lines[1:]:
        joint = (
            " " if text.endswith(("{", "(", "[", ",")) or line.startswith(("}", ")", "]")) else ", "
        )
        text += joint + line
    text = re.sub(r" {2,}", " ", text)
    return text.replace("|", "\\|")


def description(body):
    d = attr(body, "description")
    return d[1:-1].replace('\\"', '"').replace("|", "\\|") if d else ""


def reference() -> str:
    out = [HEADING, "", "Generated from each module's `variables.tf` and `outputs.tf`.", ""]
    for module in ORDER:
        d = ROOT / "modules" / module
        variables = "".join(p.read_text() for p in sorted(d.glob("variables.tf")))
        outputs = "".join(p.read_text() for p in sorted(d.glob("outputs.tf")))
        out += [
            f"### `modules/{module}`",
            "",
            "#### Inputs",
            "",
            "| name | type | default | description |",
            "|---|---|---|---|",
        ]
        for name, body in blocks(variables, "variable"):
            t = attr(body, "type") or "any"
            default = attr(body, "default")
            default = "required" if default is None else f"`{flat(default)}`"
            out.append(f"| `{name}` | `{flat(t)}` | {default} | {description(body)} |")
        out += ["", "#### Outputs", "", "| name | description |", "|---|---|"]
        for name, body in blocks(outputs, "output"):
            out.append(f"| `{name}` | {description(body)} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    before = text.split(HEADING, 1)[0]
    wanted = before + reference()
    if sys.argv[1:] == ["--check"]:
        if text != wanted:
            print(
                "reference: README.md's module reference is stale; run python3 tools/reference.py",
                file=sys.stderr,
            )
            return 1
        print("reference: README.md's module reference matches the modules")
        return 0
    readme.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
