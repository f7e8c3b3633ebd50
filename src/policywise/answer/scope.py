"""Sections written for one place ("Employees in Canada (Toronto Office)", "California Supplement")
answer questions about that place; for everyone else they are the exception, not the rule.

The composer gives sentences of such a section a small penalty unless the question names the place, so
that of two about equally close sentences the general rule leads. It is small on purpose: a place's
section that matches the question much better still leads ("How many vacation days do I get?" on the
bundled corpus, where only the Ontario section says "vacation"; docs/evaluation.md, "Known, not fixed").
The other way round, a sentence or section naming the place the question names gets a small bonus: "I work
in Colorado, when is my last paycheck due?" wants Colorado's deadline first. For the penalty only section
headings are read (a sentence that merely mentions a place, like "applies to employees in the United
States and Canada", is not a section written for one place).
"""

from __future__ import annotations

import functools
import re

_US_STATES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
    "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
    "Mississippi Missouri Montana Nebraska Nevada New_Hampshire New_Jersey New_Mexico New_York "
    "North_Carolina North_Dakota Ohio Oklahoma Oregon Pennsylvania Rhode_Island South_Carolina "
    "South_Dakota Tennessee Texas Utah Vermont Virginia Washington West_Virginia Wisconsin Wyoming"
)
_CANADA = (
    "Alberta British_Columbia Manitoba New_Brunswick Newfoundland Nova_Scotia Ontario Prince_Edward_Island "
    "Quebec Québec Saskatchewan Yukon Nunavut Northwest_Territories"
)
_COUNTRIES = (
    "Canada Mexico Brazil Argentina Chile Colombia Peru United_Kingdom England Scotland Wales Ireland "
    "Northern_Ireland France Germany Spain Portugal Italy Netherlands Belgium Switzerland Austria Sweden "
    "Norway Denmark Finland Poland Czechia Romania Greece Turkey Israel India Pakistan China Japan Korea "
    "Singapore Malaysia Philippines Indonesia Vietnam Thailand Australia New_Zealand South_Africa Nigeria "
    "Kenya Egypt Morocco United_Arab_Emirates Saudi_Arabia"
)
_PLACES = sorted(
    {p.replace("_", " ") for p in f"{_US_STATES} {_CANADA} {_COUNTRIES}".split()}, key=len, reverse=True
)
_NAMES = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in _PLACES) + r")\b", re.IGNORECASE)
# Abbreviations only in capitals: "US" and "us" are different words.
_ABBREVIATIONS = re.compile(r"\b(?:US|USA|U\.S\.|UK|U\.K\.|EU|UAE)(?![\w.])")


@functools.lru_cache(maxsize=4096)  # headings repeat from question to question
def places(text: str) -> frozenset[str]:
    found = {m.group(0).lower() for m in _NAMES.finditer(text)}
    found |= {m.group(0).replace(".", "").upper() for m in _ABBREVIATIONS.finditer(text)}
    return frozenset(found)


def out_of_scope_places(question: str, heading: str) -> frozenset[str]:
    """Places a section heading is written for that the question does not name."""
    return places(heading) - places(question)
