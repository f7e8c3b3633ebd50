"""Which case of a rule applies to the asker: a quantity in the question against the ranges in a sentence.

Policies state many rules by bands: "2 years but less than 5 years: 26 days", "Grades 5 to 7: 2
months", "more than 12 months after completion: 50%". A sentence model reads every band as equally
close to "I have 6 years' service", and the wrong row is then as likely as the right one. Here the
question's quantities ("6 years", "grade 6", "a year and a half ago") are compared with the
bands a sentence states in the same unit: a band that contains the quantity is the asker's case, a
band that excludes it is someone else's. Units are compared as written, except that years count as
12 months ("a year and a half ago" against "13 to 24 months"): "weeks 17 to 26" of a leave says
nothing about "one year of service".

Amounts of money are left out on purpose: policies state many unrelated rules in money ("receipts
over $25", "meals up to $75 a day"), so "a $15 cab ride" falling inside one band and outside another
says nothing about which rule is the asker's (measured: it turned a correct answer into a refusal).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import partial

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
}  # fmt: skip
_UNITS = {
    "year": "year", "years": "year", "yr": "year", "yrs": "year",
    "month": "month", "months": "month", "mo": "month", "mos": "month",
    "week": "week", "weeks": "week", "wk": "week", "wks": "week",
    "day": "day", "days": "day", "night": "night", "nights": "night",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour",
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "mile": "mile", "miles": "mile", "km": "km", "kilometres": "km", "kilometers": "km",
    "grade": "grade", "grades": "grade", "level": "grade", "levels": "grade",
    "band": "grade", "bands": "grade",
}  # fmt: skip
_PREFIX_UNITS = {"grade"}  # written before the number: "grade 6", "Grades 5 to 7"
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(_WORD_NUMBERS) + r"|an?)"
_UNIT = r"(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b'?"

# A year and a half, one and a half years, 2.5 years.
_AND_A_HALF = re.compile(rf"\b{_NUM}\s+{_UNIT}\s+and\s+a\s+half\b|\b{_NUM}\s+and\s+a\s+half\s+{_UNIT}", re.I)
_QUANTITY = re.compile(rf"\b{_NUM}[\s-]*{_UNIT}|\b{_UNIT}\s+{_NUM}\b", re.I)

_LOW = r"(?:at\s+least|more\s+than|over|from|after|beyond|a\s+minimum\s+of|minimum)"
_HIGH = (
    r"(?:less\s+than|fewer\s+than|under|up\s+to|no\s+more\s+than|not\s+more\s+than|at\s+most|within|before|"
    r"a\s+maximum\s+of|maximum)"
)
_TO = r"\s*(?:to|-|–|—|and)\s*"
# "2 to 5 years", "0-2 years", "between 2 and 5 years", "grades 5 to 7", "weeks 17 to 26"
_SPAN = re.compile(rf"(?:between\s+)?\b{_NUM}{_TO}{_NUM}[\s-]*{_UNIT}|\b{_UNIT}\s+{_NUM}{_TO}{_NUM}\b", re.I)
# "10 to less than 15 years", "2 years but less than 5 years": the upper bound is excluded
_SPAN_OPEN = re.compile(
    rf"\b{_NUM}[\s-]*(?:{_UNIT}\s+)?(?:to|but|and|-)\s+(?:less|fewer)\s+than\s+{_NUM}[\s-]*{_UNIT}", re.I
)
# "5 years or more", "6+ years", "grade 8 and above", "10 years or longer"
_OPEN_UP = re.compile(
    rf"\b{_NUM}\s*\+\s*{_UNIT}|\b{_NUM}[\s-]*{_UNIT}\s+(?:or|and)\s+(?:more|above|over|longer|greater|higher)\b|"
    rf"\b{_UNIT}\s+{_NUM}\s*(?:\+|(?:or|and)\s+(?:above|over|higher))",
    re.I,
)
_LOWER_BOUND = re.compile(rf"\b{_LOW}\s+{_NUM}[\s-]*{_UNIT}|\b{_LOW}\s+{_UNIT}\s+{_NUM}\b", re.I)
_UPPER_BOUND = re.compile(
    rf"\b{_HIGH}\s+{_NUM}[\s-]*{_UNIT}|\b{_HIGH}\s+{_UNIT}\s+{_NUM}\b|\b{_NUM}[\s-]*{_UNIT}\s+or\s+(?:less|fewer|under)\b",
    re.I,
)
# A table cell labelled by its column header: "Years of service: 0-2", "Grade: 5 to 7", "Years: 6+"
_LABELLED = re.compile(rf"^\s*([^:]*?)\b{_UNIT}[^:]*:\s*{_NUM}\s*(?:(\+)|{_TO}{_NUM})\s*$", re.I)


@dataclass(frozen=True)
class Band:
    unit: str
    low: float  # inclusive
    high: float  # exclusive when high_open, else inclusive
    high_open: bool = False

    def contains(self, value: float) -> bool:
        if value < self.low:
            return False
        return value < self.high if self.high_open else value <= self.high


def _number(text: str) -> float | None:
    t = text.lower()
    if t in ("a", "an"):
        return 1.0
    if t in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t])
    try:
        return (
            float(t.replace(",", ""))
            if "," in t and len(t.split(",")[-1]) == 3
            else float(t.replace(",", "."))
        )
    except ValueError:
        return None


def _unit_and_numbers(groups: tuple[str | None, ...]) -> tuple[str, list[float]] | None:
    unit = next((_UNITS[g.lower()] for g in groups if g and g.lower() in _UNITS and not _is_number(g)), None)
    numbers = [_number(g) for g in groups if g and _is_number(g)]
    if unit is None or not numbers or any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if unit == "year":
        return "month", [v * 12 for v in values]
    return unit, values


def _is_number(token: str) -> bool:
    t = token.lower()
    return t in _WORD_NUMBERS or t in ("a", "an") or bool(re.fullmatch(r"\d[\d.,]*", t))


def question_quantities(question: str) -> list[tuple[str, float]]:
    """The quantities a question states about the asker: ("month", 72.0) for 6 years, ("grade", 6.0)."""
    out: list[tuple[str, float]] = []
    text = question
    for m in _AND_A_HALF.finditer(text):
        parsed = _unit_and_numbers(m.groups())
        if parsed:
            half = 6.0 if parsed[0] == "month" else 0.5  # a year and a half: 12 + 6 months
            out.append((parsed[0], parsed[1][0] + half))
    text = _AND_A_HALF.sub(" ", text)
    for m in _QUANTITY.finditer(text):
        parsed = _unit_and_numbers(m.groups())
        if parsed is None:
            continue
        unit, (value,) = parsed[0], parsed[1][:1]
        if unit in _PREFIX_UNITS and m.group(3) is None:
            continue  # "6 grades" is not "grade 6"
        if (m.group(1) or m.group(4) or "").lower() in ("a", "an"):
            continue  # "24 hrs a week" is a rate, not a week
        out.append((unit, value))
    return out


def bands(sentence: str) -> list[Band]:
    """The ranges a sentence states, intersected per unit within each of its "; " segments."""
    out: list[Band] = []
    for segment in sentence.split(";"):
        found: dict[str, Band] = {}
        add = partial(_narrow, found)

        labelled = _LABELLED.match(segment)
        if labelled:
            parsed = _unit_and_numbers((labelled.group(2), labelled.group(3), labelled.group(5)))
            if parsed and labelled.group(4):
                add(parsed[0], parsed[1][0], math.inf)
            elif parsed and len(parsed[1]) == 2 and parsed[1][0] <= parsed[1][1]:
                add(parsed[0], parsed[1][0], parsed[1][1])
        rest = segment
        for m in _SPAN_OPEN.finditer(segment):
            parsed = _unit_and_numbers(m.groups())
            if parsed and len(parsed[1]) == 2 and parsed[1][0] < parsed[1][1]:
                add(parsed[0], parsed[1][0], parsed[1][1], high_open=True)
            rest = rest.replace(m.group(0), " ")
        for m in _SPAN.finditer(rest):
            parsed = _unit_and_numbers(m.groups())
            if parsed and len(parsed[1]) == 2 and parsed[1][0] <= parsed[1][1]:
                add(parsed[0], parsed[1][0], parsed[1][1])
            rest = rest.replace(m.group(0), " ")
        for m in _OPEN_UP.finditer(rest):
            parsed = _unit_and_numbers(m.groups())
            if parsed:
                add(parsed[0], parsed[1][0], math.inf)
        for m in _LOWER_BOUND.finditer(rest):
            parsed = _unit_and_numbers(m.groups())
            if parsed:
                strict = re.match(r"(?:more|over|after|beyond)", m.group(0), re.I) is not None
                add(parsed[0], parsed[1][0] + (1e-9 if strict else 0.0), math.inf)
        for m in _UPPER_BOUND.finditer(rest):
            parsed = _unit_and_numbers(m.groups())
            if parsed:
                strict = re.match(r"(?:less|fewer|under|before)", m.group(0), re.I) is not None
                add(parsed[0], 0.0, parsed[1][0], high_open=strict)
        out.extend(found.values())
    return out


def _narrow(found: dict[str, Band], unit: str, low: float, high: float, high_open: bool = False) -> None:
    """Record a bound; a second bound in the same unit narrows the band ("2 years but less than 5 years")."""
    old = found.get(unit)
    if old is None:
        found[unit] = Band(unit, low, high, high_open)
        return
    new_high, new_open = (high, high_open) if high < old.high else (old.high, old.high_open)
    found[unit] = Band(unit, max(old.low, low), new_high, new_open)


def fit(quantities: list[tuple[str, float]], sentence: str) -> int:
    """+1 when a band of the sentence contains one of the quantities, -1 when its bands in those units
    all exclude them, 0 when the sentence states no band in a unit of the question."""
    if not quantities:
        return 0
    verdict = 0
    for band in bands(sentence):
        values = [v for unit, v in quantities if unit == band.unit]
        if not values:
            continue
        if any(band.contains(v) for v in values):
            return 1
        verdict = -1
    return verdict
