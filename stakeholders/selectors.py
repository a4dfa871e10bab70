"""Reads of the stakeholders app: survey results with small-group suppression, the headline
figures other apps show, and the community records of a school. Each page is a fixed number
of grouped queries whatever the number of responses. Formulas: docs/stakeholders.md."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Case,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from schools.models import School
from schools.pillars import Pillar
from schools.scoping import outside_scope

from .models import (
    LIKERT_VALUES,
    Answer,
    Audience,
    CommunicationLogEntry,
    CommunicationPlan,
    Invitation,
    InvitationKind,
    NeedCategory,
    Partnership,
    Question,
    QuestionKind,
    Response,
    Story,
    Survey,
)

DEFAULT_MIN_GROUP = 5

# --- suppression --------------------------------------------------------------------------
#
# The small-group rule is written once, in ``reaches_minimum``: a count of answers (a
# survey's responses, an audience's, the respondents behind a mean or behind free text) is
# shown only when it reaches the district's minimum group. Every page, export and
# indicator asks it, through ``shown_count`` in Python and the ``answer_count`` template
# filter (stakeholders/templatetags/survey_counts.py); tests/stakeholders/
# test_small_groups.py reads every page that mentions a small survey.


def reaches_minimum(respondents: int, minimum: int) -> bool:
    """The small-group rule: may answers from this many respondents be shown?"""
    return respondents >= max(minimum or DEFAULT_MIN_GROUP, 1)


def shown_count(n: int, minimum: int) -> int | None:
    """``n`` when the rule lets it be shown, else None (shown as "fewer than ...")."""
    return n if reaches_minimum(n, minimum) else None


@dataclass(frozen=True)
class Suppression:
    """Which groups of a row of counts are hidden, and whether the row's total is too."""

    hidden: frozenset = frozenset()
    complementary: frozenset = frozenset()
    total_hidden: bool = False

    def shows(self, group) -> bool:
        return not self.total_hidden and group not in self.hidden


def suppress(counts: Mapping[object, int], minimum: int) -> Suppression:
    """Hide every group under ``minimum`` respondents, and enough others that no hidden
    figure can be worked out from the total.

    A group with fewer than ``minimum`` (but some) respondents is hidden. The total is
    shown, so the hidden groups together must also hold at least ``minimum`` respondents:
    otherwise total minus the shown groups would give them away. While they hold fewer,
    the smallest shown group is hidden too; if no group is left to add, the total is
    hidden as well. Groups with no respondents reveal nothing and are left as they are.
    """
    total = sum(counts.values())
    if not reaches_minimum(total, minimum):
        return Suppression(frozenset(counts), frozenset(), True)
    small = {g for g, n in counts.items() if n > 0 and not reaches_minimum(n, minimum)}
    hidden = set(small)
    while hidden and not reaches_minimum(sum(counts[g] for g in hidden), minimum):
        shown = sorted((n, str(g), g) for g, n in counts.items() if g not in hidden and n > 0)
        if not shown:
            return Suppression(frozenset(counts), frozenset(), True)
        hidden.add(shown[0][2])
    return Suppression(frozenset(hidden), frozenset(hidden - small), False)


def min_group(survey: Survey) -> int:
    """The survey's districts' minimum group (the strictest, should schools differ)."""
    value = School.objects.filter(surveys=survey).aggregate(m=Min("district__survey_min_group"))
    return max(value["m"] or DEFAULT_MIN_GROUP, 1)


# --- lists ----------------------------------------------------------------------------


def surveys_list(surveys):
    """Surveys with their schools and minimum group, newest first (two queries for any
    number). No responses counted here: ``with_response_counts`` counts a page's."""
    strictest = (
        Survey.schools.through.unscoped.filter(survey_id=OuterRef("pk"))
        .values("survey_id")
        .annotate(m=Min("school__district__survey_min_group"))
        .values("m")
    )
    return (
        surveys.annotate(min_group=Coalesce(Subquery(strictest), Value(DEFAULT_MIN_GROUP)))
        .order_by("-opens_on", "title", "pk")
        .prefetch_related(Prefetch("schools", queryset=School.objects.order_by("name")))
    )


def with_response_counts(surveys) -> list[Survey]:
    """``surveys`` as a list, each with ``response_count`` (one query over these surveys'
    responses alone, not a district's 170,000). Show it only through the ``answer_count``
    filter with ``min_group``."""
    surveys = list(surveys)
    counts = dict(
        # Narrowed by surveys loaded through the scope: each survey's own count.
        Response.unscoped.filter(survey__in=[s.pk for s in surveys])
        .order_by()
        .values("survey")
        .annotate(n=Count("pk"))
        .values_list("survey", "n")
    )
    for survey in surveys:
        survey.response_count = counts.get(survey.pk, 0)
    return surveys


def survey_questions(survey: Survey) -> list[Question]:
    return list(Question.objects.filter(survey=survey).prefetch_related("choices"))


def respondent_questions(survey: Survey) -> list[Question]:
    """The questions a public link shows. A respondent has no account and so no scope: the
    link's token has already named this one survey, and only its questions are read."""
    with outside_scope():
        return survey_questions(survey)


def survey_links(survey: Survey) -> list[Invitation]:
    return list(Invitation.objects.filter(survey=survey).order_by("kind", "audience", "name", "pk"))


# --- results --------------------------------------------------------------------------


def _mean(total: float, n: int) -> float | None:
    return round(total / n, 2) if n else None


def _expected(survey_ids) -> dict[tuple[int, str], int | None]:
    """Expected respondents per (survey, audience): the audience link's number plus one per
    personal link. None when nothing was set."""
    rows = (
        Invitation.objects.filter(survey_id__in=survey_ids)
        .values("survey_id", "audience")
        .annotate(
            expected=Sum(
                Case(
                    When(kind=InvitationKind.PERSON, then=Value(1)),
                    default="expected",
                    output_field=IntegerField(),
                )
            )
        )
    )
    return {(r["survey_id"], r["audience"]): r["expected"] for r in rows}


def _total_expected(responses: Mapping[str, int], expected: Mapping[str, int | None]):
    """People invited in all, or None unless every audience that answered has a number:
    a rate over only some audiences could give away a hidden audience's count."""
    if any(n and not expected.get(a) for a, n in responses.items()):
        return None
    return sum(n for n in expected.values() if n) or None


@dataclass
class AudienceRow:
    audience: str
    label: str
    responses: int
    expected: int | None
    shown: bool
    complementary: bool

    @property
    def rate(self) -> float | None:
        if not self.shown or not self.expected:
            return None
        return round(100 * self.responses / self.expected, 1)


@dataclass
class QuestionResult:
    question: Question
    answered: int
    shown: bool
    counts: list[int] = field(default_factory=list)
    percents: list[float] = field(default_factory=list)
    mean: float | None = None
    by_audience: list[tuple[str, float | None, bool]] = field(default_factory=list)
    options: list[tuple[str, int, float]] = field(default_factory=list)


@dataclass
class GroupMean:
    key: str
    label: str
    respondents: int
    mean: float | None
    shown: bool


@dataclass
class TextGroup:
    key: str
    label: str
    respondents: int
    shown: bool
    answers: list[tuple[str, str]] = field(default_factory=list)


def results(survey: Survey) -> dict:
    """Everything the results page shows, with every group under the minimum hidden."""
    minimum = min_group(survey)
    questions = survey_questions(survey)
    answers = Answer.objects.filter(response__survey=survey)

    by_audience = dict(
        Response.objects.filter(survey=survey)
        .values_list("audience")
        .annotate(n=Count("pk"))
        .values_list("audience", "n")
    )
    expected = _expected([survey.pk])
    audiences = sorted(
        {a for (_s, a) in expected} | set(by_audience), key=lambda a: Audience.values.index(a)
    )
    counts = {a: by_audience.get(a, 0) for a in audiences}
    total = sum(counts.values())
    rule = suppress(counts, minimum)
    audience_rows = [
        AudienceRow(
            audience=a,
            label=Audience(a).label,
            responses=counts[a],
            expected=expected.get((survey.pk, a)),
            shown=rule.shows(a),
            complementary=a in rule.complementary,
        )
        for a in audiences
    ]
    total_expected = _total_expected(
        {r.audience: r.responses for r in audience_rows},
        {r.audience: r.expected for r in audience_rows},
    )

    # Likert: one row per (question, audience, value).
    likert: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * 5))
    for qid, audience, value, n in (
        answers.filter(likert__isnull=False)
        .values_list("question_id", "response__audience", "likert")
        .annotate(n=Count("pk"))
        .values_list("question_id", "response__audience", "likert", "n")
    ):
        likert[qid][audience][value - 1] += n
    # Respondents per (question, audience), for choice and text questions.
    respondents: dict[int, dict[str, int]] = defaultdict(dict)
    for qid, audience, n in (
        answers.values_list("question_id", "response__audience")
        .annotate(n=Count("response_id", distinct=True))
        .values_list("question_id", "response__audience", "n")
    ):
        respondents[qid][audience] = n
    option_counts = dict(
        answers.filter(choice__isnull=False)
        .values_list("choice_id")
        .annotate(n=Count("pk"))
        .values_list("choice_id", "n")
    )

    question_rows: list[QuestionResult] = []
    for q in questions:
        per_audience = respondents.get(q.pk, {})
        answered = sum(per_audience.values())
        q_rule = suppress(per_audience, minimum) if per_audience else Suppression(total_hidden=True)
        row = QuestionResult(question=q, answered=answered, shown=not q_rule.total_hidden)
        if q.kind == QuestionKind.LIKERT:
            cells = likert.get(q.pk, {})
            row.counts = [sum(c[i] for c in cells.values()) for i in range(5)]
            weighted = sum(v * n for v, n in zip(LIKERT_VALUES, row.counts, strict=True))
            row.mean = _mean(weighted, answered)
            row.percents = [round(100 * n / answered, 1) if answered else 0 for n in row.counts]
            for a in audiences:
                c = cells.get(a, [0] * 5)
                n = sum(c)
                mean = _mean(sum(v * k for v, k in zip(LIKERT_VALUES, c, strict=True)), n)
                row.by_audience.append((a, mean, q_rule.shows(a) and n > 0))
        elif q.has_choices:
            row.options = [
                (
                    c.text,
                    option_counts.get(c.pk, 0),
                    round(100 * option_counts.get(c.pk, 0) / answered, 1) if answered else 0,
                )
                for c in q.choices.all()
            ]
        question_rows.append(row)

    return {
        "minimum": minimum,
        "total": total,
        "total_shown": not rule.total_hidden,
        "total_expected": total_expected,
        "total_rate": (
            round(100 * total / total_expected, 1)
            if total_expected and not rule.total_hidden
            else None
        ),
        "audiences": audience_rows,
        "any_complementary": bool(rule.complementary),
        "likert": [r for r in question_rows if r.question.kind == QuestionKind.LIKERT],
        "choices": [r for r in question_rows if r.question.has_choices],
        "pillars": _group_means(answers, "question__pillar", Pillar, minimum),
        "needs": _group_means(answers, "question__need_category", NeedCategory, minimum),
        # Free text of an audience under the minimum stays hidden with it, not pooled into
        # a larger group where it would be read all the same.
        "free_text": _free_text(
            answers.exclude(
                response__audience__in=[
                    a
                    for a in audiences
                    if rule.total_hidden or not reaches_minimum(counts[a], minimum)
                ]
            ),
            minimum,
        ),
        "audience_labels": [(a, Audience(a).label) for a in audiences],
    }


def _group_means(answers, path: str, choices, minimum: int) -> list[GroupMean]:
    rows = (
        answers.filter(likert__isnull=False)
        .exclude(**{path: ""})
        .values(path)
        .annotate(respondents=Count("response_id", distinct=True), mean=Avg("likert"))
        .order_by(path)
    )
    found = {r[path]: r for r in rows}
    return [
        GroupMean(
            key=key,
            label=label,
            respondents=found[key]["respondents"],
            mean=round(found[key]["mean"], 2),
            shown=reaches_minimum(found[key]["respondents"], minimum),
        )
        for key, label in choices.choices
        if key in found
    ]


def _free_text(answers, minimum: int) -> list[TextGroup]:
    """Free-text answers grouped by need category. Ordered by their text, never by who or
    when, so one person's answers cannot be lined up across questions."""
    groups: dict[str, TextGroup] = {}
    people: dict[str, set[int]] = defaultdict(set)
    labels = dict(NeedCategory.choices)
    rows = (
        answers.filter(question__kind=QuestionKind.TEXT)
        .exclude(text="")
        .values_list("question__need_category", "response_id", "question__text", "text")
        .order_by("question__need_category", "text")
    )
    for need, response_id, question, text in rows:
        group = groups.setdefault(
            need,
            TextGroup(need, labels.get(need, "No need category"), respondents=0, shown=False),
        )
        group.answers.append((question, text))
        people[need].add(response_id)
    for need, group in groups.items():
        group.respondents = len(people[need])
        group.shown = reaches_minimum(group.respondents, minimum)
        if not group.shown:
            group.answers = []
    order = {k: i for i, k in enumerate(NeedCategory.values)}
    return sorted(groups.values(), key=lambda g: order.get(g.key, len(order)))


def likert_chart(likert_rows: list[QuestionResult]) -> dict:
    """Stacked bars of the shown Likert items: the share of each point of the scale."""
    shown = [r for r in likert_rows if r.shown]
    return {
        "labels": [f"Q{r.question.position}" for r in shown],
        "titles": [r.question.text for r in shown],
        "datasets": [
            {"label": label, "data": [r.percents[i] for r in shown]}
            for i, label in enumerate(LIKERT_LABELS)
        ],
    }


LIKERT_LABELS = ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]

EXPORT_HEADER = ["Section", "Item", "Group", "Answers", "Mean", *LIKERT_LABELS, "Share (%)", "Text"]


def results_rows(data: dict) -> list[list]:
    """The results page as CSV rows, with the same cells hidden as on the page."""
    hidden = f"hidden (fewer than {data['minimum']})"
    blank5 = [""] * 5
    rows = [
        [
            "Responses",
            "All audiences",
            "All",
            data["total"] if data["total_shown"] else hidden,
            "",
            *blank5,
            data["total_rate"] if data["total_rate"] is not None else "",
            "",
        ]
    ]
    for a in data["audiences"]:
        count = a.responses if a.shown else hidden
        rows.append(["Responses", "Audience", a.label, count, "", *blank5, a.rate or "", ""])
    labels = dict(data["audience_labels"])
    for r in data["likert"]:
        item = f"Q{r.question.position}. {r.question.text}"
        if not r.shown:
            rows.append(["Agree-disagree", item, "All", hidden, "", *blank5, "", ""])
            continue
        rows.append(["Agree-disagree", item, "All", r.answered, r.mean, *r.counts, "", ""])
        for code, mean, shown in r.by_audience:
            rows.append(
                ["Agree-disagree", item, labels[code], "", mean if shown else hidden]
                + blank5
                + ["", ""]
            )
    for r in data["choices"]:
        item = f"Q{r.question.position}. {r.question.text}"
        for label, n, pct in r.options:
            cells = [n, "", *blank5, pct] if r.shown else [hidden, "", *blank5, ""]
            rows.append(["Choice", item, label, *cells, ""])
    for section, groups in (("Mean per pillar", data["pillars"]), ("Mean per need", data["needs"])):
        for g in groups:
            cells = [g.respondents, g.mean] if g.shown else [hidden, ""]
            rows.append([section, g.label, "All", *cells, *blank5, "", ""])
    for g in data["free_text"]:
        if not g.shown:
            rows.append(["Free text", g.label, "All", hidden, "", *blank5, "", ""])
        for question, text in g.answers:
            rows.append(["Free text", g.label, question, "", "", *blank5, "", text])
    return rows


# --- headline figures for other apps ---------------------------------------------------


def headline_results(surveys: Iterable[Survey] | Iterable[int]) -> dict[int, dict]:
    """Per survey id: ``responses``, ``expected``, ``rate`` (percent) and ``top_need`` (the
    need category with the lowest agreement). Four queries for any number of surveys.

    A survey with fewer responses than its district's minimum shows none of them
    (``responses`` None, ``hidden`` True); a need category counts only with enough
    respondents. See docs/stakeholders.md.
    """
    ids = [getattr(s, "pk", s) for s in surveys]
    if not ids:
        return {}
    minimums = dict(
        Survey.schools.through.unscoped.filter(survey_id__in=ids)
        .values_list("survey_id")
        .annotate(m=Min("school__district__survey_min_group"))
        .values_list("survey_id", "m")
    )
    answered: dict[int, dict[str, int]] = defaultdict(dict)
    for survey_id, audience, n in (
        Response.objects.filter(survey_id__in=ids)
        .values_list("survey_id", "audience")
        .annotate(n=Count("pk"))
        .values_list("survey_id", "audience", "n")
    ):
        answered[survey_id][audience] = n
    invited: dict[int, dict[str, int | None]] = defaultdict(dict)
    for (survey_id, audience), n in _expected(ids).items():
        invited[survey_id][audience] = n
    needs = (
        Answer.objects.filter(response__survey_id__in=ids, likert__isnull=False)
        .exclude(question__need_category="")
        .values("response__survey_id", "question__need_category")
        .annotate(respondents=Count("response_id", distinct=True), mean=Avg("likert"))
    )
    top: dict[int, tuple[float, str]] = {}
    for row in needs:
        sid = row["response__survey_id"]
        if not reaches_minimum(row["respondents"], minimums.get(sid, DEFAULT_MIN_GROUP)):
            continue
        candidate = (row["mean"], row["question__need_category"])
        if sid not in top or candidate < top[sid]:
            top[sid] = candidate
    out = {}
    for sid in ids:
        n = sum(answered[sid].values())
        minimum = minimums.get(sid, DEFAULT_MIN_GROUP)
        hidden = shown_count(n, minimum) is None
        exp = _total_expected(answered[sid], invited[sid])
        need = top.get(sid)
        out[sid] = {
            "responses": shown_count(n, minimum),
            "minimum": minimum,
            "hidden": hidden,
            "expected": exp,
            "rate": round(100 * n / exp, 1) if exp and not hidden else None,
            "top_need": need[1] if need else None,
            "top_need_label": NeedCategory(need[1]).label if need else None,
        }
    return out


# --- community ------------------------------------------------------------------------


def community(school: School) -> dict:
    """A school's stories, partnerships, plan and recent messages (six queries)."""
    plan = CommunicationPlan.objects.filter(school=school).prefetch_related("channels").first()
    return {
        "stories": list(
            Story.objects.filter(school=school).prefetch_related("people", "shares")[:50]
        ),
        "partnerships": list(
            Partnership.objects.filter(school=school).prefetch_related("benefits")
        ),
        "plan": plan,
        "log": list(CommunicationLogEntry.objects.filter(school=school)[:30]),
    }


def partnerships_money(partnerships: Iterable[Partnership]) -> float:
    return float(sum(p.amount or 0 for p in partnerships if p.active))
