"""Text on its way into reportlab's paragraph markup.

Why this module: a `Paragraph` parses its text as markup (`<img src=…>`, `<font>`,
`<a href>`, entities), so a firm named `"><img src=x>` broke the report with a parser
error and `<img src="http://…"/>` made the server fetch that address. Every piece of
data that enters a paragraph goes through `markup()`, which escapes it, and the
report builds no paragraph any other way.

It also makes odd Unicode print: text is put in NFC (a letter and its combining marks
become one character where Unicode has one); control and invisible format characters
(bidi overrides, zero-width joiners, tags) are dropped, since a printed page cannot
show them and reportlab applies no bidi algorithm; and each run of characters the
Chinese font lacks is set in the first fallback font that has them (DejaVu Sans for
Latin, Greek, Cyrillic, Hebrew, Arabic letters, combining marks and symbols; Symbola
for emoji), so a name prints as written instead of as empty boxes. A character no
installed font has is printed as U+FFFD (�), a visible sign that something was there.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

# Debian's fonts-wqy-zenhei (installed by scripts/system-deps.sh) is a TrueType
# collection reportlab can embed; Noto CJK ships CFF outlines it cannot.
FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# For what the Chinese font lacks, in order (fonts-dejavu-core, fonts-symbola).
FALLBACK_FILES = (("CG-DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                  ("CG-Symbola", "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"))
DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
SPACES = frozenset("\t\n\r\v\f\u2028\u2029")
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Fonts:
    main: str
    covered: tuple[tuple[str, frozenset[int]], ...]  # (font name, code points), main font first

    def font_for(self, ch: str) -> str | None:
        cp = ord(ch)
        return next((name for name, cps in self.covered if cp in cps), None)


def _ttf(name: str, path: str, **kw: int) -> frozenset[int]:
    font = TTFont(name, path, **kw)
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap (`ttfonts.makeToUnicodeCMap`), with each character
    written as the PDF reference asks: UTF-16BE, so a character beyond the Basic
    Multilingual Plane (an emoji set in Symbola) is a surrogate pair. reportlab 5.1
    writes it as five hex digits (`<1F600>`), which readers reject, and the character
    was lost from the PDF's text (copying, search, screen readers) though it printed."""
    def utf16(cp: int) -> str:
        return chr(cp).encode("utf-16-be", "surrogatepass").hex().upper()

    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def", "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>", "endcodespacerange", f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"])


# The TrueType subsets' ToUnicode maps, as above (reportlab looks the function up in its
# module when it writes each subset).
ttfonts.makeToUnicodeCMap = _to_unicode_cmap


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    """The report's fonts, registered once: an embedded CJK font when one is
    installed, else Adobe's STSong CID font (the PDF then relies on the reader's Asian
    font pack, and no fallback applies: the CID font's coverage is unknown here)."""
    main = next((f for f in FONT_FILES if Path(f).exists()), None)
    if main is None:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return Fonts("STSong-Light", ())
    covered = [("CG-CJK", _ttf("CG-CJK", main, subfontIndex=0))]
    covered += [(name, _ttf(name, path)) for name, path in FALLBACK_FILES if Path(path).exists()]
    return Fonts("CG-CJK", tuple(covered))


def printable(value: object) -> str:
    """The text as it can be printed: NFC, whitespace controls as spaces, other
    control and format characters dropped."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    out = []
    for ch in text:
        if ch in SPACES:
            out.append(" ")
        elif unicodedata.category(ch) not in DROPPED:
            out.append(ch)
    return "".join(out)


def markup(value: object, *, limit: int | None = None, lang: str = "zh") -> str:
    """Paragraph markup showing `value` literally: escaped, printable, and set in a
    font that has each character. Past `limit` characters the text is cut with a note
    of its full length (in `lang`): reportlab re-wraps the rest of a paragraph at every
    page break, so one 20,000-character record text took over a minute to lay out."""
    text = printable(value)
    if limit is not None and len(text) > limit:
        note = (f" … (full text {len(text)} characters, on the platform)" if lang == "en"
                else f"…（全文 {len(text)} 字，见平台）")
        text = text[:limit] + note
    f = fonts()
    if not f.covered:
        return escape(text)
    parts: list[str] = []
    run: list[str] = []
    current: str | None = f.main

    def flush() -> None:
        if run:
            body = escape("".join(run))
            parts.append(body if current == f.main else f'<font name="{current}">{body}</font>')
            run.clear()

    for ch in text:
        font = f.font_for(ch)
        if font is None:
            ch, font = REPLACEMENT, f.font_for(REPLACEMENT) or f.main
        if font != current and not (ch == " " and run):  # a space stays in the run it follows
            flush()
            current = font
        run.append(ch)
    flush()
    return "".join(parts)
