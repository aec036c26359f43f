"""The manual cannot rot: every relative link resolves inside the repository, and every
Python example in docs/ runs.

Code blocks of a docs page, by the info string of their fence:

- `python`: executed, in order, in one namespace per page, with the current directory a
  fresh temporary directory that is also on sys.path;
- `python file=NAME.py`: not executed, written to NAME.py in that directory, so a later
  block can import it or pass it to `--plugin`;
- anything else (bash, text, console, pycon, ...): not run.
"""

import re
import sys
import traceback
import types
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from proofs_check.library import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md"))
LINKING_PAGES = [ROOT / "README.md", *PAGES]

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*(.*?)\s*$")
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s()<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_TAG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
CODE_SPAN = re.compile(r"(`+).+?\1")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
FILE_BLOCK = re.compile(r"python\s+file=(\S+)")


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def code_blocks(path: Path) -> list[tuple[str, int, str]]:
    """(info string, number of the block's first line, source) of every fenced block.

    Line numbers count from 1 in the page; the first line is the one after the opening
    fence. A block closes at a fence of the same character at least as long, or at the
    end of the page."""
    blocks = []
    fence = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fence is None:
            opening = FENCE.match(line)
            if opening:
                indent, fence, info = opening.groups()
                first, body = number + 1, []
        elif line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
            blocks.append((info, first, _source(body, indent)))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        blocks.append((info, first, _source(body, indent)))
    return blocks


def _source(lines: list[str], indent: str) -> str:
    """The block's text, without the indentation of its opening fence."""
    return "".join(line.removeprefix(indent) + "\n" for line in lines)


def lines_outside_code(path: Path) -> list[str]:
    """The page's lines with the content of fenced blocks blanked (line numbers kept)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for _, first, source in code_blocks(path):
        for number in range(first, first + source.count("\n")):
            lines[number - 1] = ""
    return lines


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link, image and <img src> outside code that is not a URL."""
    text = "\n".join(CODE_SPAN.sub("code", line) for line in lines_outside_code(path))
    found = sorted((match.start(1), match[1]) for pattern in (LINK, IMAGE_TAG) for match in pattern.finditer(text))
    return [(text.count("\n", 0, start) + 1, target) for start, target in found if not SCHEME.match(target)]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation except hyphens dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return "".join(char for char in text if char.isalnum() or char in "-_ ").replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings; a repeated slug gets -1, -2, ... as on GitHub."""
    seen: Counter[str] = Counter()
    result = set()
    for line in lines_outside_code(path):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading[1])
            result.add(f"{base}-{seen[base]}" if seen[base] else base)
            seen[base] += 1
    return result


def link_problem(page: Path, target: str) -> str | None:
    """Why `target`, linked from `page`, does not resolve; None when it does."""
    location, _, anchor = target.partition("#")
    base = ROOT if location.startswith("/") else page.parent
    file = (base / unquote(location).lstrip("/")).resolve() if location else page
    if not file.is_relative_to(ROOT):
        return "points outside the repository"
    if not file.exists():
        return "does not exist"
    if anchor and file.suffix == ".md" and unquote(anchor) not in anchors(file):
        return f"has no heading with anchor #{anchor}"
    return None


@pytest.mark.parametrize("page", LINKING_PAGES, ids=page_id)
def test_relative_links_resolve(page):
    broken = [
        f"  line {line}: ({target}) {problem}"
        for line, target in relative_links(page)
        if (problem := link_problem(page, target))
    ]
    assert not broken, f"{page_id(page)} has broken links:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_code_examples_run(page, tmp_path, monkeypatch):
    blocks = [(info, line, source) for info, line, source in code_blocks(page) if info == "python" or FILE_BLOCK.fullmatch(info)]
    if not blocks:
        pytest.skip(f"{page_id(page)} has no python blocks")
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("docs_example")  # a real module, so dataclasses and pickle work
    sys.modules[module.__name__] = module
    sys.path.insert(0, str(tmp_path))
    scope = REGISTRY.scope()  # lemmas a page registers do not outlive it
    scope.__enter__()
    try:
        for info, line, source in blocks:
            name = FILE_BLOCK.fullmatch(info)
            if name:
                _write_example_file(tmp_path, name[1], source)
                continue
            error = _run_block(source, f"{page_id(page)}:{line}", module.__dict__)
            if error:
                pytest.fail(
                    f"{page_id(page)}: the python block at line {line} failed"
                    f" (its line n is line {line - 1} + n of the page):\n{error}",
                    pytrace=False,
                )
    finally:
        scope.__exit__(None, None, None)
        sys.path.remove(str(tmp_path))
        _forget_modules_under(tmp_path)
        sys.modules.pop(module.__name__, None)


def _run_block(source: str, filename: str, namespace: dict) -> str | None:
    """Execute one block in the page's namespace; its traceback if it raised."""
    try:
        exec(compile(source, filename, "exec"), namespace)
    except (Exception, SystemExit):
        return traceback.format_exc()
    return None


def _write_example_file(directory: Path, name: str, source: str) -> None:
    target = Path(name)
    assert not target.is_absolute() and ".." not in target.parts, f"file={name} must stay in the example's directory"
    (directory / target).parent.mkdir(parents=True, exist_ok=True)
    (directory / target).write_text(source, encoding="utf-8")


def _forget_modules_under(directory: Path) -> None:
    """Drop the modules a page imported from its temporary directory."""
    directory = directory.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(directory):
            del sys.modules[name]


# The helpers themselves, on a small page.

SAMPLE = """\
# Title

See [the model](model.md#1-network), [`cli`](cli.md) and [a site](https://example.org).
<img src="figures/grid.png" alt="grid">

```python
x = 1  # [not](a-link.md)
```

## 1. Network, `W a` again

~~~~python file=helper.py
```
not a fence end
~~~~

`[a code span](no.md)`

```bash
echo [neither](this.md)
```

## 1. Network, `W a` again
"""


def test_helpers_on_a_sample_page(tmp_path):
    page = tmp_path / "sample.md"
    page.write_text(SAMPLE, encoding="utf-8")
    assert code_blocks(page) == [
        ("python", 7, "x = 1  # [not](a-link.md)\n"),
        ("python file=helper.py", 13, "```\nnot a fence end\n"),
        ("bash", 20, "echo [neither](this.md)\n"),
    ]
    assert relative_links(page) == [(3, "model.md#1-network"), (3, "cli.md"), (4, "figures/grid.png")]
    assert anchors(page) == {"title", "1-network-w-a-again", "1-network-w-a-again-1"}
    assert slug("The paper's form, for a fixed σ > 0") == "the-papers-form-for-a-fixed-σ--0"
