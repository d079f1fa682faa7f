"""Build the small demo corpus shipped with attartm (``python/attartm/data/demo.parquet``).

It takes the introductions of the first 2,000 suitable articles of the English Wikipedia
sample (``../shared/data/enwiki_sample/part-0.parquet``), so the package can ship real text
under CC BY-SA 3.0 with attribution (``python/attartm/data/NOTICE``).

Usage::

    python tools/make_demo_corpus.py [--source PATH] [--n 2000]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT / ".." / "shared" / "data" / "enwiki_sample" / "part-0.parquet"
OUT_DIR = ROOT / "python" / "attartm" / "data"

MAX_CHARS = 1500  # an introduction longer than this is cut at a sentence end
MIN_CHARS = 400  # shorter introductions are stubs, lists or disambiguation pages
MIN_SENTENCES = 3

# WikiExtractor keeps section titles as short lines ending with a period ("History.").
_HEADING = re.compile(r"^[^.!?]{1,80}\.$")
# Templates removed by WikiExtractor leave empty brackets behind: "Albedo (), or ...".
_EMPTY_BRACKETS = re.compile(r"\s*\(\s*[,;]?\s*\)")
_BRACKET_SEPARATOR = re.compile(r"\(\s*[,;]\s*")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")


def is_heading(line: str) -> bool:
    """Whether a line of WikiExtractor output is a section title."""
    return bool(_HEADING.match(line)) and len(line.split()) <= 8


def introduction(text: str) -> str | None:
    """The lead section of an article, or None if it is not a reasonable introduction.

    Parameters
    ----------
    text : str
        WikiExtractor output: the title line, a blank line, then one paragraph per line.

    Returns
    -------
    str or None
        The paragraphs before the first section title, separated by blank lines and cut
        to about ``MAX_CHARS`` characters at a sentence end.
    """
    lines = text.split("\n")
    body = [line.strip() for line in lines[1:]]
    paragraphs: list[str] = []
    for line in body:
        if not line:
            continue
        if is_heading(line):
            break
        paragraphs.append(_BRACKET_SEPARATOR.sub("(", _EMPTY_BRACKETS.sub("", line)))
    intro = "\n\n".join(paragraphs)
    if len(intro) > MAX_CHARS:
        ends = [m.end() for m in _SENTENCE_END.finditer(intro, 0, MAX_CHARS)]
        if not ends:
            return None
        intro = intro[: ends[-1]]
    intro = intro.strip()
    if len(intro) < MIN_CHARS or len(_SENTENCE_END.findall(intro)) < MIN_SENTENCES:
        return None
    if "may refer to" in intro[:300]:
        return None
    return intro


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--n", type=int, default=2000, help="number of articles")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    if not args.source.exists():
        print(f"source {args.source} not found", file=sys.stderr)
        return 1
    articles = pl.read_parquet(args.source, columns=["id", "url", "title", "text"])
    rows: dict[str, list] = {"id": [], "title": [], "url": [], "text": []}
    for art_id, url, title, text in articles.iter_rows():
        if title.startswith("List of") or "(disambiguation)" in title:
            continue
        intro = introduction(text)
        if intro is None:
            continue
        rows["id"].append(art_id)
        rows["title"].append(title)
        rows["url"].append(url)
        rows["text"].append(intro)
        if len(rows["id"]) == args.n:
            break
    if len(rows["id"]) < args.n:
        print(f"only {len(rows['id'])} suitable articles found", file=sys.stderr)

    demo = pl.DataFrame(
        rows, schema={"id": pl.Int64, "title": pl.String, "url": pl.String, "text": pl.String}
    )
    args.out.mkdir(parents=True, exist_ok=True)
    parquet = args.out / "demo.parquet"
    demo.write_parquet(parquet, compression="zstd", compression_level=19, statistics=False)

    notice = [
        "attartm demo corpus (demo.parquet)",
        "",
        "The texts in demo.parquet are excerpts (the introductions) of English Wikipedia",
        "articles, from a 2015 dump. They are licensed under the Creative Commons",
        "Attribution-ShareAlike 3.0 Unported License (CC BY-SA 3.0),",
        "https://creativecommons.org/licenses/by-sa/3.0/ . The authors are the Wikipedia",
        "contributors; each article's history is at its URL. Changes: cut to the",
        "introduction (at most about 1,500 characters, ending at a sentence end), empty",
        "brackets left by removed templates deleted, paragraphs separated by blank lines.",
        "",
        f"Articles ({demo.height}), one per line: title <TAB> URL",
        "",
    ]
    notice += [f"{t}\t{u}" for t, u in zip(demo["title"], demo["url"], strict=True)]
    (args.out / "NOTICE").write_text("\n".join(notice) + "\n", encoding="utf-8")

    chars = demo["text"].str.len_chars()
    print(
        f"wrote {parquet} ({parquet.stat().st_size / 1e6:.2f} MB): {demo.height} articles, "
        f"{chars.sum() / 1e6:.2f}M characters (mean {chars.mean():.0f}, min {chars.min()})"
    )
    print(f"wrote {args.out / 'NOTICE'} ({(args.out / 'NOTICE').stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
