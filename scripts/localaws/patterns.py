"""Java regular expressions from the service models, as Python `re` patterns.

The models' patterns are Java's: Unicode classes (\\p{L}, \\p{Alnum}, ...)
and UTF-16 surrogate pairs (\\uD800\\uDC00-\\uDBFF\\uDFFF) that Python's `re`
does not take. Those are rewritten into explicit code point ranges; a
pattern that still does not compile is reported, never silently passed.
AWS checks a whole value against the pattern (Java's matches()), so do we.
"""

import re
import sys
import threading
import unicodedata

_lock = threading.Lock()
_compiled = {}
UNTRANSLATABLE = {}  # pattern -> reason; reported by the stats endpoint

# Java's POSIX classes are ASCII only.
_POSIX = {
    "Alnum": "a-zA-Z0-9", "Alpha": "a-zA-Z", "Digit": "0-9", "Upper": "A-Z", "Lower": "a-z",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), "Graph": "\\x21-\\x7e",
    "Print": "\\x20-\\x7e", "Space": " \\t\\n\\x0b\\f\\r", "XDigit": "0-9a-fA-F",
}
_categories = None


def _category_ranges():
    """General category (one and two letters) -> class body of its ranges."""
    spans = {}
    start, current = 0, unicodedata.category("\0")
    for cp in range(1, sys.maxunicode + 2):
        cat = unicodedata.category(chr(cp)) if cp <= sys.maxunicode else None
        if cat != current:
            for key in (current, current[0]):
                spans.setdefault(key, []).append((start, cp - 1))
            start, current = cp, cat
    return {k: "".join(_range(a, b) for a, b in v) for k, v in spans.items()}


def _range(a, b):
    return f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}"


def _class_body(name):
    global _categories
    if name in _POSIX:
        return _POSIX[name]
    if _categories is None:
        _categories = _category_ranges()
    name = name[2:] if name.startswith("Is") else name
    if name in _categories:
        return _categories[name]
    raise ValueError(f"unknown class \\p{{{name}}}")


def translate(java):
    out = re.sub(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})",
                 lambda m: "\\U%08x" % (0x10000 + ((int(m[1], 16) - 0xD800) << 10) + int(m[2], 16) - 0xDC00),
                 java, flags=re.I)
    # Java takes a quantified end anchor ("${1,256}"); repeating a zero-width
    # assertion at least once is the assertion itself.
    out = re.sub(r"(?<!\\)\$\{[1-9]\d*(,\d*)?\}", "$", out)
    # \p{X} inside a [...] class contributes its ranges; outside it becomes one.
    result, in_class, i = [], False, 0
    while i < len(out):
        c = out[i]
        if c == "\\" and out.startswith(("\\p{", "\\P{"), i):
            end = out.index("}", i)
            body = _class_body(out[i + 3:end])
            negate = out[i + 1] == "P"
            if in_class and not negate:
                result.append(body)
            else:
                result.append(("[^" if negate else "[") + body + "]")
            i = end + 1
            continue
        if c == "\\":
            result.append(out[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        result.append(c)
        i += 1
    return "".join(result)


def compiled(java):
    """The compiled pattern, or None when it cannot be translated."""
    with _lock:
        if java in _compiled:
            return _compiled[java]
        try:
            pattern = re.compile(translate(java))
        except (re.error, ValueError) as e:
            UNTRANSLATABLE[java] = str(e)
            pattern = None
        _compiled[java] = pattern
        return pattern
