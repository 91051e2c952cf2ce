"""The local analysis: measures computed here, with no AI provider. It gives no quality or relevance
score (those are the AI's judgement); it reports what it measured and what that suggests.

Thresholds and their sources: Flesch reading ease below 50 reads as "fairly difficult" or harder
(Flesch 1948); VADER's compound score counts as negative at -0.05 and below (the package's README);
sentences past 25 words are where plain-language guides (GOV.UK, plainlanguage.gov) start to warn."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import textstat
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

RULES_VERSION = "local-1"
HARD_TO_READ = 50.0
NEGATIVE_TONE = -0.05
LONG_SENTENCE_WORDS = 25
PASSIVE_SHARE = 0.2

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-z0-9'’-]+")
_IRREGULAR_PARTICIPLES = (
    "made|done|built|sent|written|known|held|told|shown|seen|paid|sold|taken|given|found|kept|left|put|set|"
    "chosen|driven|brought|bought|caught|taught|thought|won|begun|grown|drawn|spoken|broken|frozen|hidden"
)
# Participles that follow "to be" as adjectives ("we are thrilled"), not as the passive voice.
_ADJECTIVES = "thrilled|excited|pleased|delighted|interested|tired|based|located|supposed|used|married|retired"
# A form of "to be" (or "get"), perhaps an adverb, then a past participle: the usual passive voice.
_PASSIVE = re.compile(
    rf"\b(?:am|is|are|was|were|be|been|being|get|gets|got|gotten)\s+(?:\w+ly\s+)?"
    rf"(?!(?:{_ADJECTIVES})\b)(?:\w+ed|{_IRREGULAR_PARTICIPLES})\b",
    re.IGNORECASE,
)
_sentiment = None


def _analyser() -> SentimentIntensityAnalyzer:
    global _sentiment
    if _sentiment is None:  # loads the lexicon file once per process
        _sentiment = SentimentIntensityAnalyzer()
    return _sentiment


@dataclass
class LocalFindings:
    measures: dict = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if _WORD.search(s or "")]


def analyse_locally(text: str, *, length: int, max_length: int | None, keywords: list[str]) -> LocalFindings:
    """`length` is the text's length as its channel counts it; `keywords` the content's tags and the
    audience's topics, each looked for as a whole word or phrase."""
    findings = LocalFindings()
    sentences = sentences_of(text)
    words = [len(_WORD.findall(sentence)) for sentence in sentences]
    if not sentences:
        findings.reasons.append("There is no text to analyse.")
        findings.measures = {"words": 0}
        return findings
    reading_ease = round(textstat.flesch_reading_ease(text), 1)
    grade = round(textstat.flesch_kincaid_grade(text), 1)
    tone = _analyser().polarity_scores(text)["compound"]
    long_sentences = [sentence for sentence, count in zip(sentences, words, strict=True) if count > LONG_SENTENCE_WORDS]
    passive = [sentence for sentence in sentences if _PASSIVE.search(sentence)]
    present = [word for word in keywords if _contains(text, word)]
    missing = [word for word in keywords if word not in present]
    findings.measures = {
        "flesch_reading_ease": reading_ease, "grade_level": grade, "sentiment": round(tone, 3),
        "words": sum(words), "sentences": len(sentences), "average_sentence_words": round(sum(words) / len(words), 1),
        "long_sentences": len(long_sentences), "passive_sentences": len(passive),
        "length": length, "max_length": max_length, "keywords_present": present, "keywords_missing": missing,
    }
    if reading_ease < HARD_TO_READ:
        findings.reasons.append(f"Hard to read: Flesch reading ease {reading_ease} (grade {grade}).")
        findings.suggestions.append("Use shorter sentences and everyday words.")
    else:
        findings.reasons.append(f"Readable: Flesch reading ease {reading_ease} (grade {grade}).")
    if tone <= NEGATIVE_TONE:
        findings.reasons.append(f"The tone reads as negative (sentiment {tone:+.2f}).")
        findings.suggestions.append("Check that the negative tone is intended.")
    if max_length is not None and length > max_length:
        findings.reasons.append(f"{length} characters: over the channel's limit of {max_length}.")
        findings.suggestions.append(f"Cut it to {max_length} characters or fewer.")
    if long_sentences:
        findings.reasons.append(f"{len(long_sentences)} sentence(s) longer than {LONG_SENTENCE_WORDS} words.")
        findings.suggestions.append(f"Split the long sentence starting “{_start(long_sentences[0])}”.")
    if passive and len(passive) / len(sentences) > PASSIVE_SHARE:
        findings.reasons.append(f"{len(passive)} of {len(sentences)} sentences use the passive voice.")
        findings.suggestions.append(f"Say who does what, e.g. rewrite “{_start(passive[0])}”.")
    if missing:
        findings.reasons.append(f"Keywords not mentioned: {', '.join(missing)}.")
        findings.suggestions.append(f"Mention {', '.join(missing[:3])} where it fits.")
    return findings


def _contains(text: str, phrase: str) -> bool:
    return bool(re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE))


def _start(sentence: str, words: int = 8) -> str:
    head = sentence.split()
    return " ".join(head[:words]) + ("…" if len(head) > words else "")
