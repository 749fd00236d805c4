"""The page's language: one table of strings per language in `web/i18n/`.

The server renders each page in the language chosen from, in order, a `lang`
query parameter, the `lang` cookie the page's switch sets, and the browser's
Accept-Language; the page gets the same table as JSON for the text its script
writes, and fetches another table when the switch changes. English is the
fallback. API errors stay English JSON; the page translates their `code`.
"""

import functools
import json
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
DEFAULT = "en"
COOKIE = "lang"


@functools.lru_cache(maxsize=None)
def strings(language):
    with open(WEB_DIR / "i18n" / f"{language}.json", encoding="utf-8") as table:
        return json.load(table)


def known(code):
    """'zh-CN', 'zh_cn', 'zh-Hans', 'zh', 'en-GB' -> a LANGUAGES key, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return {"en": "en", "zh": "zh-CN"}.get(base)


def choose(request):
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if known(candidate):
            return known(candidate)
    for code, _quality in request.accept_languages:
        if known(code):
            return known(code)
    return DEFAULT
