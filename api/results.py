"""A survey's results as JSON, hiding exactly what the results page and its CSV hide.

``stakeholders.selectors.results`` decides what is shown (the small-group rule and the
complementary suppression); this module only writes each figure or ``null`` where the
page writes "fewer than N" or "hidden". Nothing hidden leaves in another field.
"""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


def _audience(a) -> dict:
    return {
        "audience": a.audience,
        "label": a.label,
        "responses": a.responses if a.shown else None,
        "rate": a.rate,
        "hidden": not a.shown,
    }


def _likert(r, labels) -> dict:
    if not r.shown:
        return {
            "position": r.question.position,
            "question": r.question.text,
            "hidden": True,
            "answers": None,
            "counts": None,
            "percents": None,
            "mean": None,
            "by_audience": [],
        }
    return {
        "position": r.question.position,
        "question": r.question.text,
        "hidden": False,
        "answers": r.answered,
        "counts": list(r.counts),
        "percents": list(r.percents),
        "mean": r.mean,
        "by_audience": [
            {"audience": code, "label": labels[code], "mean": mean if shown else None}
            for code, mean, shown in r.by_audience
        ],
    }


def _choice(r) -> dict:
    return {
        "position": r.question.position,
        "question": r.question.text,
        "hidden": not r.shown,
        "answers": r.answered if r.shown else None,
        "options": [
            {"text": text, "chosen": n if r.shown else None, "share": pct if r.shown else None}
            for text, n, pct in r.options
        ],
    }


def _group(g) -> dict:
    return {
        "key": g.key,
        "label": g.label,
        "respondents": g.respondents if g.shown else None,
        "mean": g.mean if g.shown else None,
        "hidden": not g.shown,
    }


def _text(g) -> dict:
    return {
        "key": g.key,
        "label": g.label,
        "respondents": g.respondents if g.shown else None,
        "hidden": not g.shown,
        "answers": [{"question": q, "text": t} for q, t in g.answers] if g.shown else [],
    }


def survey_results(data: dict) -> dict:
    labels = dict(data["audience_labels"])
    return {
        "minimum_group": data["minimum"],
        "responses": data["total"] if data["total_shown"] else None,
        "response_rate": data["total_rate"],
        "audiences": [_audience(a) for a in data["audiences"]],
        "likert": [_likert(r, labels) for r in data["likert"]],
        "choices": [_choice(r) for r in data["choices"]],
        "pillars": [_group(g) for g in data["pillars"]],
        "needs": [_group(g) for g in data["needs"]],
        "free_text": [_text(g) for g in data["free_text"]],
    }


_NUMBER = {"allow_null": True}
_GROUP = inline_serializer(
    "SurveyGroupMean",
    {
        "key": serializers.CharField(),
        "label": serializers.CharField(),
        "respondents": serializers.IntegerField(**_NUMBER),
        "mean": serializers.FloatField(**_NUMBER),
        "hidden": serializers.BooleanField(),
    },
    many=True,
)
survey_results.schema = inline_serializer(
    "SurveyResults",
    {
        "minimum_group": serializers.IntegerField(),
        "responses": serializers.IntegerField(**_NUMBER),
        "response_rate": serializers.FloatField(**_NUMBER),
        "audiences": inline_serializer(
            "SurveyAudience",
            {
                "audience": serializers.CharField(),
                "label": serializers.CharField(),
                "responses": serializers.IntegerField(**_NUMBER),
                "rate": serializers.FloatField(**_NUMBER),
                "hidden": serializers.BooleanField(),
            },
            many=True,
        ),
        "likert": inline_serializer(
            "SurveyLikertItem",
            {
                "position": serializers.IntegerField(),
                "question": serializers.CharField(),
                "hidden": serializers.BooleanField(),
                "answers": serializers.IntegerField(**_NUMBER),
                "counts": serializers.ListField(child=serializers.IntegerField(), **_NUMBER),
                "percents": serializers.ListField(child=serializers.FloatField(), **_NUMBER),
                "mean": serializers.FloatField(**_NUMBER),
                "by_audience": inline_serializer(
                    "SurveyAudienceMean",
                    {
                        "audience": serializers.CharField(),
                        "label": serializers.CharField(),
                        "mean": serializers.FloatField(**_NUMBER),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
        "choices": inline_serializer(
            "SurveyChoiceItem",
            {
                "position": serializers.IntegerField(),
                "question": serializers.CharField(),
                "hidden": serializers.BooleanField(),
                "answers": serializers.IntegerField(**_NUMBER),
                "options": inline_serializer(
                    "SurveyOption",
                    {
                        "text": serializers.CharField(),
                        "chosen": serializers.IntegerField(**_NUMBER),
                        "share": serializers.FloatField(**_NUMBER),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
        "pillars": _GROUP,
        "needs": _GROUP,
        "free_text": inline_serializer(
            "SurveyFreeText",
            {
                "key": serializers.CharField(),
                "label": serializers.CharField(),
                "respondents": serializers.IntegerField(**_NUMBER),
                "hidden": serializers.BooleanField(),
                "answers": inline_serializer(
                    "SurveyTextAnswer",
                    {"question": serializers.CharField(), "text": serializers.CharField()},
                    many=True,
                ),
            },
            many=True,
        ),
    },
)
