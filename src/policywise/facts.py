"""What a question asks for: the kind of fact, whether a sentence states one, and the thing asked about.

"How much is the stipend?" asks for an amount, "how many weeks…" for a number of weeks, "by when…" for a
date or a deadline. Retrieval uses this to tell passages that name a topic from passages that state what
was asked about it; the answer judge, to tell an answer from a sentence on the same subject.
"""

from __future__ import annotations

import re

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|half|a|an|single|double|twice|once"
)
_NUM = rf"(?:\d[\d,.]*|{_NUMBER_WORDS})"
# "A year" is a quantity in "10 days a year", not an amount of anything ("reviewed once a year").
_QUANTITY = rf"(?:\d[\d,.]*|(?!(?:a|an|single|once)\b)(?:{_NUMBER_WORDS}))"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_UNITS = (
    r"(?:minute|hour|day|week|month|year|business day|calendar day|working day|workday|night|session|time)s?"
)

_PATTERNS = {
    "amount": re.compile(
        rf"[$€£¥₹]\s?\d|\d\s?(?:%|percent|dollars|pounds|euros|cents|pence|usd|cad|eur|gbp|aud|chf|inr)\b|"
        # a currency code before the amount ("GBP 180") and pence ("45p per mile")
        rf"\b(?:usd|cad|eur|gbp|aud|nzd|chf|inr|sgd)\s?\d|\b\d+(?:\.\d+)?p\b|\b{_QUANTITY}\s+{_UNITS}\b|"
        # multiples of pay, as benefits state them: "1x annual salary", "two times base pay"
        rf"\b\d+(?:\.\d+)?\s?[x×](?!\w)|\b{_NUM}\s+times\s+(?:your\s+|the\s+|annual\s+|base\s+)*(?:salary|pay|earnings)",
        re.I,
    ),
    "percent": re.compile(r"\d\s?(?:%|percent)|\bhalf\b|\bfull\b", re.I),
    "count": re.compile(rf"\b{_NUM}\b", re.I),
    "date": re.compile(
        rf"\b{_MONTH}\b|\b\d{{1,2}}/\d{{1,2}}\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
        rf"\bwithin\s+{_NUM}\b|\b{_NUM}\s+{_UNITS}\s+(?:before|after|of|from|prior)\b|"
        r"\b\d{1,2}(?::\d\d)?\s?(?:a\.?m|p\.?m)\b|"
        r"\b(?:q[1-4]|quarter|annually|each year|every year|end of|start of|first day|last day|deadline)\b|"
        r"\bby the\b",
        re.I,
    ),
    # "Which dates are the holidays?" wants days of the calendar: "annually" or "within 30 days" is no answer.
    "calendar": re.compile(
        rf"\b{_MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}\b|\b\d{{1,2}}/\d{{1,2}}\b|\b\d{{4}}-\d\d-\d\d\b",
        re.I,
    ),
    "duration": re.compile(rf"\b{_NUM}[\s-]+{_UNITS}\b|\bwithin\b|\buntil\b", re.I),
    "frequency": re.compile(
        rf"\bevery\b|\beach\b|\bper\b|\bannual(?:ly)?\b|\bmonthly\b|\bweekly\b|\bdaily\b|\bquarterly\b|"
        rf"\byearly\b|\bonce\b|\btwice\b|\b{_NUM}\s+times\b|"
        # "paid fortnightly", "semi-monthly pay periods", "bi-annual review"
        rf"\bfortnightly\b|\b(?:bi|semi)-?(?:weekly|monthly|annual(?:ly)?)\b|\bhourly\b",
        re.I,
    ),
}

# The question forms that ask for a kind of fact. Order matters: the first match wins.
_ASKS = [
    (
        "percent",
        re.compile(r"\bwhat (?:percent|percentage)\b|\bhow big a (?:bonus )?percentage\b|\bwhat %", re.I),
    ),
    (
        "amount",
        re.compile(
            r"\bhow much\b|\bwhat(?:'s| is| are)? the (?:\w+ )?(?:rate|amount|cap|limit|cost|price|"
            r"budget|allowance|stipend|salary|pay)\b",
            re.I,
        ),
    ),
    (
        "calendar",
        re.compile(
            r"\bwhich (?:exact |specific )?dates\b|\bwhat (?:are the )?(?:exact )?dates\b|\bexact dates?\b",
            re.I,
        ),
    ),
    ("count", re.compile(r"\bhow many\b", re.I)),
    ("duration", re.compile(r"\bhow long\b", re.I)),
    ("frequency", re.compile(r"\bhow often\b|\bhow frequently\b", re.I)),
    (
        "date",
        re.compile(
            # "when" asks for a date where it opens a question, not as a conjunction ("which button do I
            # click when I get a phishing email?")
            r"(?:^|[.?!;]\s*|,\s*|\b(?:and|or|but|by|until|since|from)\s+)when\b|"
            r"\bwhat (?:date|day|time)\b|\bwhich (?:exact )?(?:dates?|days?)\b|"
            r"\bdeadline\b|\bhow soon\b|\bhow quickly\b|\bhow fast\b",
            re.I,
        ),
    ),
]


def asks_for(question: str) -> str | None:
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


# "How many weeks of severance...?" counts weeks: a sentence counting something else ("Example 3", "a
# separation agreement", "2 weeks' notice" is still weeks) does not answer it.
_COUNTED = re.compile(r"\bhow many\s+(?:[a-z-]+\s+){0,2}?(" + _UNITS + r")\b", re.I)


def counted_unit(question: str) -> str | None:
    """The unit a how-many question counts in ("week" for "how many weeks of leave"), or None."""
    m = _COUNTED.search(question)
    return m.group(1).lower().rstrip("s") if m else None


# "How much comes out of each paycheck?" asks for an amount at a rate: deductibles are amounts, but not per
# paycheck. The words a policy writes the same rate with.
_RATES = {
    "paycheck": r"pay ?(?:check|cheque|period|cycle|day)s?|payroll|bi-?weekly|semi-?monthly|fortnightly",
    "night": r"nights?|nightly",
    "day": r"days?|daily|diem",
    "week": r"weeks?|weekly",
    "month": r"months?|monthly",
    "year": r"years?|yearly|annual(?:ly)?|annum",
    "hour": r"hours?|hourly|hr",
    "mile": r"miles?|mi",
    "kilometre": r"kilomet(?:re|er)s?|km",
    "person": r"persons?|people|head|guests?|attendees?",
}
_RATE_ALIASES = {
    "pay period": "paycheck", "pay check": "paycheck", "pay cheque": "paycheck", "kilometer": "kilometre",
    "km": "kilometre", "head": "person",
}  # fmt: skip
_HOW_MUCH = re.compile(r"\bhow much\b", re.I)
# The rate of one "how much" clause: up to the end of the clause.
_CLAUSE_RATE = re.compile(
    r"^(?:(?!\band\b)[^?,;])*?\b(?:per|each|every|a|an)\s+(" + "|".join([*_RATES, *_RATE_ALIASES]) + r")s?\b",
    re.I,
)


def asked_rate(question: str) -> str | None:
    """The unit of the rate a how-much question asks for ("paycheck" in "how much comes out of each
    paycheck?"), or None; None too when its how-much clauses do not all ask at one rate ("How much is the
    exam fee, and how much extra per hour will I earn?" asks for two amounts, one of them per hour)."""
    clauses = _HOW_MUCH.split(question)[1:]
    rates = set()
    for clause in clauses:
        m = _CLAUSE_RATE.match(clause)
        if m is None:
            return None
        unit = m.group(1).lower()
        rates.add(_RATE_ALIASES.get(unit, unit))
    return rates.pop() if len(rates) == 1 else None


def _states_rate(unit: str, text: str) -> bool:
    # Loosely: the rate's word anywhere in the sentence ("$45 per pay period", "GBP 180 a night").
    return bool(re.search(rf"\b(?:{_RATES[unit]})\b", text, re.I))


def has_fact(kind: str, text: str, question: str = "") -> bool:
    """Whether ``text`` states the kind of fact ``question`` asks for (its unit too, for a count, and its
    rate for an amount asked per paycheck, per night…)."""
    if kind == "amount" and (unit := asked_rate(question)) is not None:
        return bool(_PATTERNS["amount"].search(text)) and _states_rate(unit, text)
    if kind == "count":
        text = re.sub(r"\[\d+\]", "", text)
        unit = counted_unit(question)
        if unit is not None:
            return bool(re.search(rf"\b{_NUM}[\s-]+(?:[a-z-]+\s+){{0,2}}{re.escape(unit)}s?\b", text, re.I))
        return bool(_PATTERNS["count"].search(text))
    if kind == "date":
        # A date question is often answered with a deadline ("within 5 business days").
        return bool(_PATTERNS["date"].search(text) or _PATTERNS["duration"].search(text))
    if kind == "duration":
        # "How long" also asks for lengths ("how long must my password be": 14 characters).
        return bool(
            _PATTERNS["duration"].search(text) or _PATTERNS["count"].search(re.sub(r"\[\d+\]", "", text))
        )
    return bool(_PATTERNS[kind].search(text))


# "Does the company pay for X?", "Is there X?", "Do we get X?": X is what an availability question is
# about, however well the embedding model knows its words ("outplacement", "coworking").
_PROVIDER = (
    r"(?:(?i:(?:the|our|my) (?:company|employer|firm|organi[sz]ation|business|benefits?(?: package| plan)?|"
    r"plan|insurance|health plan)|we|they|you)|(?!I\b)[A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)*)"
)
_PROVIDES = (
    r"(?:include|pay for|pay towards|cover|offer|provide|reimburse|give(?: us| me| employees| staff)?|have|"
    r"fund|support|subsidi[sz]e|contribute to(?:wards)?|match|sponsor)"
)
_AVAILABILITY = re.compile(
    rf"(?:\b(?i:(?:does|do|will|would|can)\s+){_PROVIDER}\s+(?i:{_PROVIDES})(?!\s+to\b)|"
    r"\b(?i:is there(?: an?| any)?|are there(?: any)?|do (?:we|i|employees|staff) (?:get|have)(?! to\b)|"
    r"can (?:i|we) get|am i (?:entitled|eligible) (?:to|for)|is (?:there )?(?:any )?(?:support|help) for))"
    r"\s+(?P<object>[^?,;]+)"
)
# A trailing clause is the asker's circumstances, not the thing asked about; so is a clause of its own
# ("a desk I can book", "a way we can...").
_CIRCUMSTANCE = re.compile(
    r"\s+(?:since|because|as|if|when|while|after|before|so that|given|i|we|you|they|he|she)\s.*$", re.I
)
# "Is there somewhere I can talk to a therapist?" asks for a way to do something, not for a thing.
_NO_THING = re.compile(r"(?:some|any|no|every)(?:where|one|body|thing|how)\b|a (?:way|place|person)\b", re.I)


def asked_object(question: str) -> str | None:
    """What an availability question asks to have ("a coworking space membership" in "Will the company
    pay for a coworking space membership since I'm fully remote?"), or None for other questions."""
    m = _AVAILABILITY.search(question)
    if m is None or _NO_THING.match(m.group("object")):
        return None
    return _CIRCUMSTANCE.sub("", m.group("object")).strip() or None
