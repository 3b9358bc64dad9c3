"""The message catalogues (translations/), kept with Babel: `bin/i18n` runs this module.

    bin/i18n update             extract every message of code and templates, update the French catalogue,
                                compile it (what `pybabel extract/update/compile` does, with this
                                project's keywords and folders)
    bin/i18n missing [PATH…]    the messages without a French translation (optionally only those
                                extracted from PATH…), and English left outside the catalogue
    bin/i18n fill FILE.json     take French translations from {"English": "Français", …} and compile
    bin/i18n compile            compile translations/*/LC_MESSAGES/messages.po into .mo

Not imported by the application; the completeness test (tests/unit/test_translations.py) uses it.
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bank.requirements import call_name

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
SOURCES = ("bank", "donors", "lots", "release", "doses", "biovigilance", "demo", "templates")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "t": None,
    "N_": None,
}
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
TARGETS = ("fr",)


def _searched(dirpath: str) -> bool:
    """Babel's default skips every folder starting with "_", which would leave templates/_macros out."""
    name = Path(dirpath).name
    return not name.startswith(".") and name != "__pycache__"


def extract() -> Catalog:
    """Every message of the code and templates, with where it was found."""
    catalog = Catalog(project="msc-bank", charset="utf-8")
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder,
            METHODS,
            keywords=KEYWORDS,
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
            directory_filter=_searched,
        ):
            if folder != "templates" and "/migrations/" in f"/{filename}":
                continue
            catalog.add(
                message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments, context=context
            )
    return catalog


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project="msc-bank", charset="utf-8")
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def save(catalog: Catalog, lang: str) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True, include_previous=False)
    path.write_bytes(buffer.getvalue())
    compile_catalog(lang, catalog)


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalog(lang: str, catalog: Catalog | None = None) -> None:
    catalog = catalog or load(lang)
    po_path(lang).with_suffix(".mo").write_bytes(mo_bytes(catalog))


def update() -> None:
    template = extract()
    for lang in TARGETS:
        catalog = load(lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        save(catalog, lang)


def fill(path: str) -> int:
    """French translations from a JSON object {English: French}; returns how many were taken."""
    pairs = json.loads(Path(path).read_text(encoding="utf-8"))
    template = extract()
    catalog = load("fr")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    taken = 0
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.id in pairs:
            message.string = pairs[message.id]
            message.flags.discard("fuzzy")
            taken += 1
    save(catalog, "fr")
    return taken


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text or ""))


def untranslated(lang: str = "fr", under: tuple[str, ...] = ()) -> list[str]:
    """Messages of the code and templates without a translation in `lang` (or with placeholders that
    differ from the English), as "where: message"."""
    catalog = load(lang)
    missing = []
    for message in extract():
        if not message.id:
            continue
        where = message.locations[0][0] if message.locations else "?"
        if under and not any(where.startswith(p.rstrip("/")) for p in under):
            continue
        known = catalog.get(message.id)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        string = known.string if known is not None else None
        strings = [s for s in (string if isinstance(string, list | tuple) else [string])]
        if known is None or "fuzzy" in known.flags or not all(strings):
            missing.append(f"{where}: {msgid}")
        elif any(_placeholders(s) != _placeholders(msgid) for s in strings):
            missing.append(f"{where}: placeholders differ: {msgid}")
    return missing


# ---- English outside the catalogue -----------------------------------------------------------------

_JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
# Words that read the same in both languages: units, codes, the product's name.
SAME_IN_BOTH = {
    "kg",
    "cm",
    "mm",
    "ml",
    "mL",
    "µL",
    "µm",
    "°C",
    "min",
    "h",
    "MSC",
    "ISBT",
    "DIN",
    "ZPL",
    "PDF",
    "CSV",
    "API",
    "SVG",
    "UTC",
    "QC",
    "QA",
    "EDSS",
    "EU",
    "US",
    "bank",
    "OK",
    "ID",
    "dpi",
    "x",
}
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-confirm")


def _is_text(value: str) -> bool:
    words = _WORD.findall(value)
    return any(w not in SAME_IN_BOTH and not w.isupper() for w in words)


class _TemplateText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and _is_text(value):
                self.found.append(f'{name}="{value.strip()}"')
            if (
                tag == "input"
                and name == "value"
                and value
                and ("type", "submit") in attrs
                and _is_text(value)
            ):
                self.found.append(f'value="{value.strip()}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and _is_text(data):
            self.found.append(" ".join(data.split()))


def english_in_template(source: str) -> list[str]:
    """Visible text of a template written outside the catalogue (not in `_()` / `{% trans %}`)."""
    blanked = _JINJA.sub(lambda m: " " * 0 + "\x00", source)
    parser = _TemplateText()
    parser.feed(blanked.replace("\x00", " "))
    return parser.found


# Calls whose literal text argument is shown to people: it must go through t()/_() instead.
_SHOWN_CALLS = {"flash", "Problem", "ValidationError", "StopValidation", "echo", "secho", "abort"}
_FIELD = re.compile(r"\w*Field$")


def _literal_text(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_text(node.value):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        return parts if _is_text(parts) else None
    return None


def english_in_python(source: str) -> list[str]:
    """Literal English given straight to something people read: flash, a Problem's message, a field's
    label or validator message, a form choice, a command's echo, an abort description."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        candidates = []
        if name in _SHOWN_CALLS:
            args = (
                node.args[1:3] if name == "Problem" else node.args[1:2] if name == "abort" else node.args[:1]
            )
            candidates += args
            candidates += [k.value for k in node.keywords if k.arg in ("message", "description")]
        elif _FIELD.match(name):
            candidates += node.args[:1] + [
                k.value for k in node.keywords if k.arg in ("label", "description")
            ]
            for k in node.keywords:
                if k.arg == "choices" and isinstance(k.value, ast.List | ast.Tuple):
                    for choice in k.value.elts:
                        if isinstance(choice, ast.Tuple) and len(choice.elts) == 2:
                            candidates.append(choice.elts[1])
        elif name in (
            "DataRequired",
            "InputRequired",
            "Length",
            "NumberRange",
            "Optional",
            "Regexp",
            "AnyOf",
        ):
            candidates += [k.value for k in node.keywords if k.arg == "message"]
        for arg in candidates:
            text = _literal_text(arg)
            if text:
                found.append(f"line {node.lineno}: {text.strip()[:90]}")
    return found


def english_outside(under: tuple[str, ...] = ()) -> list[str]:
    """Every place of code and templates (optionally only under the given paths) with English text
    outside the catalogue."""
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or "__pycache__" in rel or (under and not rel.startswith(under)):
                continue
            if path.suffix == ".html":
                found += [f"{rel}: {text}" for text in english_in_template(path.read_text(encoding="utf-8"))]
            elif path.suffix == ".py":
                found += [f"{rel} {text}" for text in english_in_python(path.read_text(encoding="utf-8"))]
    return found


def main(argv: list[str]) -> int:
    command, *rest = argv or ["help"]
    if command == "update":
        update()
        print(f"updated {po_path('fr').relative_to(ROOT)} and compiled it")
    elif command == "compile":
        for lang in TARGETS:
            compile_catalog(lang)
        print("compiled")
    elif command == "fill" and rest:
        print(f"{fill(rest[0])} translations taken from {rest[0]}")
    elif command == "missing":
        under = tuple(rest)
        missing = untranslated("fr", under)
        english = english_outside(under)
        for line in missing:
            print("no French:", line)
        for line in english:
            print("English outside the catalogue:", line)
        print(f"{len(missing)} without French, {len(english)} outside the catalogue")
        return 1 if missing or english else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
