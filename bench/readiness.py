"""Readiness for a whole district: the real Celery job against its SQL floor.

The job is ``readiness.tasks.compute_run`` run through ``apply()`` (the task body exactly as a
worker runs it: every indicator's grouped queries, the scoring, the snapshots written in bulk,
the run and the district summary updated). It is timed twice:

- **steady**: the nightly case, nothing changed since the last run, so only ``confirmed_at``
  moves (one UPDATE for the district);
- **all changed**: every school's result differs from its latest snapshot (a district target
  is changed for the measurement), so one snapshot per school is INSERTed. The change is
  committed, as an admin's is, so the run reads it on every connection it uses; after each
  run the run, its snapshots and the target are put back as they were.

Both count the queries of every connection the job uses: a district's figures are read by
``READINESS_READERS`` threads at once, each on its own connection.

The floor computes the same aggregates — every indicator's raw figures for every school — as
ONE plain SQL statement (a CTE per evidence table, each grouped by school) plus one for the
district's targets, through a raw cursor, and then scores them in Python with the job's own
``score_school``. The usable-device CTE is the one rule of the inventory
(``equity.inventory.models.usable_q``) compiled to SQL, not a copy of it. Before any figure
is reported, the floor's result for every school is checked against the snapshot the job
stored (fingerprint of values, evidence counts, targets and weights; pillar scores;
overall): a floor that read less than the job would fail here.

Run by hand: ``DATABASE_URL=... python -m bench.readiness --size 1000000``.

Why one long module: most of it is the SQL floor, one statement with a CTE per evidence
table, which must be read whole beside the job it is checked against; the driver around it
is short.
"""

from __future__ import annotations

import re
import statistics
import time
from types import SimpleNamespace

from bench._django import section_main
from bench.report import table, verdict

DISTRICT = "Scale District"
RUNS = 3
CHANGED_KEY = "partnerships_active"  # the target the "every school changed" runs move
GOAL = 1.5

# One statement: every indicator's raw figures per school of a district. Parameters:
# district, today, year_ago (first day of the 12 months), story_since (first day of the 90
# days), cohort (the school year), tz (the site's time zone, for the dates of timestamps).
FLOOR_SQL = """
WITH sch AS (
    SELECT s.id, s.enrollment_pk_2,
           s.enrollment_pk_2 + s.enrollment_3_5 + s.enrollment_6_8 + s.enrollment_9_12
               AS enrollment,
           d.device_planning_ratio, d.pd_hour_target,
           greatest(coalesce(nullif(d.survey_min_group, 0), 5), 1) AS min_group
    FROM schools_school s JOIN schools_district d ON d.id = s.district_id
    WHERE s.district_id = %(district)s
),
dev AS (  -- usable computing and touchscreen devices: the inventory's rule (usable_devices)
    {usable_devices}
),
hot AS (  -- students holding a hotspot now
    SELECT DISTINCT student_id FROM equity_assignment
    WHERE is_hotspot AND checked_in_at IS NULL
),
stu AS (  -- active students: touch needs beyond K-2, home connectivity
    SELECT st.school_id,
           count(*) FILTER (WHERE st.needs_touch AND st.grade > 2) AS touch_beyond_k2,
           count(*) FILTER (WHERE st.home_internet = 'yes' OR hot.student_id IS NOT NULL)
               AS connected,
           count(*) FILTER (WHERE st.home_internet <> 'unknown' OR hot.student_id IS NOT NULL)
               AS known
    FROM equity_student st LEFT JOIN hot ON hot.student_id = st.id
    WHERE st.active AND st.school_id IN (SELECT id FROM sch)
    GROUP BY st.school_id
),
att AS (  -- attended PD of the 12 months per staff member
    SELECT a.staff_id, sum(a.hours) AS hours,
           sum(a.hours) FILTER (WHERE ps.job_embedded OR ps.ongoing_series) AS embedded,
           count(*) AS n
    FROM pd_attendance a JOIN pd_pdsession ps ON ps.id = a.session_id
    WHERE a.status = 'attended' AND ps.date BETWEEN %(year_ago)s AND %(today)s
    GROUP BY a.staff_id
),
stf AS (  -- teaching staff, those at the PD-hour target, attended hours
    SELECT sm.school_id,
           count(*) FILTER (WHERE sm.active AND sm.position IN %(teaching)s) AS teaching,
           count(*) FILTER (WHERE sm.active AND sm.position IN %(teaching)s
                            AND coalesce(att.hours, 0) >= sch.pd_hour_target) AS met,
           sum(att.hours) AS hours, sum(att.embedded) AS embedded, sum(att.n)::bigint AS attendances
    FROM schools_staffmember sm JOIN sch ON sch.id = sm.school_id
    LEFT JOIN att ON att.staff_id = sm.id
    GROUP BY sm.school_id
),
lea AS (
    SELECT ll.school_id, count(*) AS n
    FROM pd_learningleader ll JOIN schools_staffmember sm ON sm.id = ll.staff_id
    WHERE ll.cohort_year = %(cohort)s AND sm.active AND ll.school_id IN (SELECT id FROM sch)
    GROUP BY ll.school_id
),
fbk AS (
    SELECT ss.school_id, avg(f.rating)::float8 AS mean, count(*) AS n
    FROM pd_pdsession_schools ss JOIN pd_feedback f ON f.session_id = ss.pdsession_id
    WHERE ss.school_id IN (SELECT id FROM sch)
      AND f.submitted_on BETWEEN %(year_ago)s AND %(today)s
    GROUP BY ss.school_id
),
pol AS (
    SELECT school_id, count(*) AS n FROM pd_pdneedspoll
    WHERE school_id IN (SELECT id FROM sch) AND opens_on BETWEEN %(year_ago)s AND %(today)s
    GROUP BY school_id
),
ini AS (  -- active initiatives and their budget lines
    SELECT l.school_id,
           count(DISTINCT i.id) AS active,
           count(DISTINCT i.id) FILTER (WHERE i.learning_goals <> '' AND i.why <> '') AS planned,
           count(DISTINCT i.id) FILTER (WHERE i.learning_goals <> ''
                                        AND i.success_measures <> '') AS measured,
           sum(b.amount) AS budget,
           sum(b.amount) FILTER (WHERE b.funding_source IN ('grant', 'donation')) AS external,
           count(b.id) AS lines
    FROM initiatives_initiative_schools l
    JOIN initiatives_initiative i ON i.id = l.initiative_id
    LEFT JOIN initiatives_budgetline b ON b.initiative_id = i.id
    WHERE l.school_id IN (SELECT id FROM sch)
      AND i.status IN ('planning', 'pilot', 'rollout', 'sustaining')
      AND (i.created_at AT TIME ZONE %(tz)s)::date <= %(today)s
    GROUP BY l.school_id
),
app AS (  -- register apps cited by compliance items of active initiatives, and those cleared
    SELECT l.school_id,
           count(DISTINCT a.id) AS used,
           count(DISTINCT a.id) FILTER (
               WHERE a.decision IN ('approved', 'approved_with_conditions')
                 AND a.dpa_status = 'signed'
                 AND (a.dpa_expires_on IS NULL OR a.dpa_expires_on >= %(today)s)) AS cleared
    FROM initiatives_initiative_schools l
    JOIN initiatives_initiative i ON i.id = l.initiative_id
    JOIN initiatives_complianceitem c ON c.initiative_id = i.id
    JOIN software_app a ON a.id = c.app_id
    WHERE l.school_id IN (SELECT id FROM sch)
      AND i.status IN ('planning', 'pilot', 'rollout', 'sustaining')
      AND (i.created_at AT TIME ZONE %(tz)s)::date <= %(today)s
    GROUP BY l.school_id
),
eva AS (  -- initiatives in students' hands, and those with a reflection in 12 months
    SELECT l.school_id, count(*) AS n,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM initiatives_reflection r
               WHERE r.initiative_id = l.initiative_id
                 AND r.written_on BETWEEN %(year_ago)s AND %(today)s)) AS done
    FROM initiatives_initiative_schools l
    JOIN initiatives_initiative i ON i.id = l.initiative_id
    WHERE l.school_id IN (SELECT id FROM sch)
      AND (i.created_at AT TIME ZONE %(tz)s)::date <= %(today)s
      AND (i.status IN ('rollout', 'sustaining')
           OR (i.status = 'retired' AND EXISTS (
               SELECT 1 FROM initiatives_statuschange c
               WHERE c.initiative_id = i.id AND c.to_status = 'retired'
                 AND (c.at AT TIME ZONE %(tz)s)::date BETWEEN %(year_ago)s AND %(today)s)))
    GROUP BY l.school_id
),
cls AS (  -- surveys of each school closed in the 12 months
    SELECT ss.school_id, ss.survey_id
    FROM stakeholders_survey_schools ss JOIN stakeholders_survey sv ON sv.id = ss.survey_id
    WHERE ss.school_id IN (SELECT id FROM sch)
      AND ((sv.closed_on IS NOT NULL AND sv.closed_on BETWEEN %(year_ago)s AND %(today)s)
           OR (sv.closed_on IS NULL AND sv.closes_on >= %(year_ago)s
               AND sv.closes_on < %(today)s))
),
aud AS (  -- closed surveys and the audiences they had a link for
    SELECT c.school_id, count(DISTINCT c.survey_id) AS surveys,
           count(DISTINCT inv.audience)
               FILTER (WHERE inv.audience IN ('teachers', 'students', 'families')) AS audiences
    FROM cls c LEFT JOIN stakeholders_invitation inv ON inv.survey_id = c.survey_id
    GROUP BY c.school_id
),
rsp AS (
    SELECT survey_id, audience, count(*) AS n FROM stakeholders_response
    WHERE survey_id IN (SELECT survey_id FROM cls)
    GROUP BY survey_id, audience
),
inv AS (
    SELECT survey_id, audience,
           sum(CASE WHEN kind = 'person' THEN 1 ELSE expected END) AS expected
    FROM stakeholders_invitation WHERE survey_id IN (SELECT survey_id FROM cls)
    GROUP BY survey_id, audience
),
mins AS (  -- the strictest minimum group of each survey's districts
    SELECT ss.survey_id, min(d.survey_min_group) AS m
    FROM stakeholders_survey_schools ss JOIN schools_school s ON s.id = ss.school_id
    JOIN schools_district d ON d.id = s.district_id
    WHERE ss.survey_id IN (SELECT survey_id FROM cls)
    GROUP BY ss.survey_id
),
srv AS (  -- per survey: responses, expected, whether every answering audience has a number
    SELECT coalesce(r.survey_id, i.survey_id) AS survey_id,
           sum(coalesce(r.n, 0))::bigint AS n,
           bool_or(coalesce(r.n, 0) > 0 AND coalesce(i.expected, 0) = 0) AS unknown,
           (sum(i.expected) FILTER (WHERE i.expected <> 0))::bigint AS expected
    FROM rsp r FULL JOIN inv i ON i.survey_id = r.survey_id AND i.audience = r.audience
    GROUP BY 1
),
rat AS (  -- surveys whose response rate is shown, summed per school
    SELECT c.school_id, sum(srv.n)::bigint AS answered, sum(srv.expected)::bigint AS expected
    FROM cls c JOIN srv ON srv.survey_id = c.survey_id
    LEFT JOIN mins ON mins.survey_id = c.survey_id
    WHERE NOT srv.unknown AND srv.expected > 0 AND srv.n >= coalesce(mins.m, 5)
    GROUP BY c.school_id
),
agr_survey AS (  -- Likert answers of the 12 months per (school, survey, audience)
    SELECT ss.school_id, r.survey_id, r.audience, sum(an.likert)::bigint AS total,
           count(*) AS answers, count(DISTINCT r.id) AS respondents
    FROM stakeholders_survey_schools ss
    JOIN stakeholders_response r ON r.survey_id = ss.survey_id
    JOIN stakeholders_answer an ON an.response_id = r.id
    JOIN stakeholders_question q ON q.id = an.question_id
    WHERE ss.school_id IN (SELECT id FROM sch)
      AND r.submitted_on BETWEEN %(year_ago)s AND %(today)s AND an.likert IS NOT NULL
      AND ((r.audience = 'students' AND q.pillar = 'engagement')
           OR (r.audience = 'families' AND (q.sentiment OR q.pillar = 'branding')))
    GROUP BY ss.school_id, r.survey_id, r.audience
),
agr AS (  -- pooled over the surveys whose group reaches the minimum
    SELECT a.school_id,
           (sum(a.total) FILTER (WHERE a.audience = 'students'))::bigint AS s_total,
           (sum(a.answers) FILTER (WHERE a.audience = 'students'))::bigint AS s_answers,
           (sum(a.respondents) FILTER (WHERE a.audience = 'students'))::bigint AS s_people,
           (sum(a.total) FILTER (WHERE a.audience = 'families'))::bigint AS f_total,
           (sum(a.answers) FILTER (WHERE a.audience = 'families'))::bigint AS f_answers,
           (sum(a.respondents) FILTER (WHERE a.audience = 'families'))::bigint AS f_people
    FROM agr_survey a JOIN sch ON sch.id = a.school_id
    WHERE a.respondents >= sch.min_group
    GROUP BY a.school_id
),
pln AS (
    SELECT p.school_id, count(c.id) AS channels
    FROM stakeholders_communicationplan p
    LEFT JOIN stakeholders_planchanneluse c ON c.plan_id = p.id
    WHERE p.school_id IN (SELECT id FROM sch) AND p.daily_tool <> ''
    GROUP BY p.school_id
),
sto AS (
    SELECT st.school_id, count(*) AS total,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM stakeholders_storyshare x WHERE x.story_id = st.id)) AS shared,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM stakeholders_storyperson p
               WHERE p.story_id = st.id AND p.role IN %(others)s)) AS others
    FROM stakeholders_story st
    WHERE st.school_id IN (SELECT id FROM sch)
      AND st.date BETWEEN %(story_since)s AND %(today)s
    GROUP BY st.school_id
),
swt AS (
    SELECT DISTINCT school_id FROM initiatives_swot
    WHERE school_id IN (SELECT id FROM sch)
      AND (year = %(cohort)s
           OR (year = %(cohort)s - 1
               AND (updated_at AT TIME ZONE %(tz)s)::date BETWEEN %(year_ago)s AND %(today)s))
),
par AS (
    SELECT school_id, count(*) AS n FROM stakeholders_partnership
    WHERE school_id IN (SELECT id FROM sch) AND active AND started_on <= %(today)s
    GROUP BY school_id
)
SELECT sch.id, %(district)s, sch.enrollment, sch.enrollment_pk_2, sch.device_planning_ratio,
       coalesce(dev.usable, 0), coalesce(dev.touch_usable, 0),
       coalesce(stu.touch_beyond_k2, 0), coalesce(stu.connected, 0), coalesce(stu.known, 0),
       coalesce(stf.teaching, 0), coalesce(stf.met, 0), coalesce(stf.hours, 0),
       coalesce(stf.embedded, 0), coalesce(stf.attendances, 0),
       coalesce(lea.n, 0), fbk.mean, coalesce(fbk.n, 0), coalesce(pol.n, 0),
       coalesce(ini.active, 0), coalesce(ini.planned, 0), coalesce(ini.measured, 0),
       coalesce(ini.budget, 0), coalesce(ini.external, 0), coalesce(ini.lines, 0),
       coalesce(eva.n, 0), coalesce(eva.done, 0),
       coalesce(aud.surveys, 0), coalesce(aud.audiences, 0),
       coalesce(rat.answered, 0), coalesce(rat.expected, 0),
       agr.s_total, coalesce(agr.s_answers, 0), coalesce(agr.s_people, 0),
       agr.f_total, coalesce(agr.f_answers, 0), coalesce(agr.f_people, 0),
       pln.channels, coalesce(sto.total, 0), coalesce(sto.shared, 0), coalesce(sto.others, 0),
       swt.school_id IS NOT NULL, coalesce(par.n, 0),
       coalesce(app.used, 0), coalesce(app.cleared, 0)
FROM sch
LEFT JOIN dev ON dev.school_id = sch.id
LEFT JOIN stu ON stu.school_id = sch.id
LEFT JOIN stf ON stf.school_id = sch.id
LEFT JOIN lea ON lea.school_id = sch.id
LEFT JOIN fbk ON fbk.school_id = sch.id
LEFT JOIN pol ON pol.school_id = sch.id
LEFT JOIN ini ON ini.school_id = sch.id
LEFT JOIN eva ON eva.school_id = sch.id
LEFT JOIN aud ON aud.school_id = sch.id
LEFT JOIN rat ON rat.school_id = sch.id
LEFT JOIN agr ON agr.school_id = sch.id
LEFT JOIN pln ON pln.school_id = sch.id
LEFT JOIN sto ON sto.school_id = sch.id
LEFT JOIN swt ON swt.school_id = sch.id
LEFT JOIN par ON par.school_id = sch.id
LEFT JOIN app ON app.school_id = sch.id
ORDER BY sch.id
"""

# The same figures as one statement per evidence table (each with the CTEs it needs): the
# database may run a separate statement in parallel where one large statement runs serially.
GROUPS = {
    "dev": ["dev"],
    "stu": ["hot", "stu"],
    "stf": ["att", "stf"],
    "lea": ["lea"],
    "fbk": ["fbk"],
    "pol": ["pol"],
    "ini": ["ini"],
    "app": ["app"],
    "eva": ["eva"],
    "aud": ["cls", "aud"],
    "rat": ["cls", "rsp", "inv", "mins", "srv", "rat"],
    "agr": ["agr_survey", "agr"],
    "pln": ["pln"],
    "sto": ["sto"],
    "swt": ["swt"],
    "par": ["par"],
}


def usable_devices(today) -> tuple[str, dict]:
    """The ``dev`` CTE: usable computing and touchscreen devices per school of ``sch``, as
    SQL compiled from the inventory's one usable rule (``equity.inventory.models.usable_q``)
    rather than written again here, and its parameters, named for the floor's statement.
    Run with scopes disabled (as the whole benchmark is)."""
    from django.db.models import Count, Q
    from django.db.models.expressions import RawSQL

    from equity.inventory.models import Device, DeviceKind, usable_q

    computing = ~Q(model__kind=DeviceKind.HOTSPOT)
    query = (
        Device.objects.filter(usable_q(today), school_id__in=RawSQL("SELECT id FROM sch", ()))
        .values("school_id")
        .annotate(
            usable=Count("pk", filter=computing),
            touch_usable=Count("pk", filter=computing & Q(model__touchscreen=True)),
        )
        .order_by()
    )
    sql, values = query.query.sql_with_params()
    pieces = re.split(r"(?<!%)%s", sql)
    params = {f"dev_{i}": str(v) if isinstance(v, str) else v for i, v in enumerate(values)}
    named = "".join(f"{piece}%(dev_{i})s" for i, piece in enumerate(pieces[:-1]))
    return named + pieces[-1], params


def floor_sql(today) -> tuple[str, dict]:
    """FLOOR_SQL with its ``dev`` CTE filled in, and that CTE's parameters."""
    dev, params = usable_devices(today)
    return FLOOR_SQL.replace("{usable_devices}", dev), params


def _ctes(sql: str) -> dict[str, str]:
    """The floor statement's CTEs by name, each as ``name AS (...)``."""
    body = sql.split("\nSELECT sch.id")[0].strip()
    assert body.startswith("WITH ")
    parts = re.split(r"\n(?=[a-z_]+ AS \()", body[len("WITH ") :])
    return {part.split(" ", 1)[0]: part.rstrip().rstrip(",") for part in parts}


def per_table_statements(sql: str) -> dict[str, str]:
    ctes = _ctes(sql)
    return {
        name: "WITH "
        + ",\n".join(ctes[c] for c in ["sch", *needs])
        + f"\nSELECT * FROM {needs[-1]}"
        for name, needs in GROUPS.items()
    }


TARGETS_SQL = """
SELECT indicator, target, weight FROM readiness_indicatortarget WHERE district_id = %(district)s
"""


def _per_table_rows(cursor, floor_statement: str, params) -> list[tuple]:
    """The floor's rows, from one statement per evidence table, joined by school in Python."""
    parts: dict[str, dict[int, dict]] = {}
    for name, sql in per_table_statements(floor_statement).items():
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        parts[name] = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    cursor.execute(_ctes(floor_statement)["sch"].split(" AS (", 1)[1].rsplit(")", 1)[0], params)
    columns = [c.name for c in cursor.description]
    schools = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def get(part, school, column, default=0):
        value = parts[part].get(school, {}).get(column)
        return default if value is None else value

    rows = []
    for sch in sorted(schools, key=lambda r: r["id"]):
        i = sch["id"]
        rows.append(
            (
                i, params["district"], sch["enrollment"], sch["enrollment_pk_2"],
                sch["device_planning_ratio"],
                get("dev", i, "usable"), get("dev", i, "touch_usable"),
                get("stu", i, "touch_beyond_k2"), get("stu", i, "connected"),
                get("stu", i, "known"),
                get("stf", i, "teaching"), get("stf", i, "met"), get("stf", i, "hours"),
                get("stf", i, "embedded"), get("stf", i, "attendances"),
                get("lea", i, "n"), get("fbk", i, "mean", None), get("fbk", i, "n"),
                get("pol", i, "n"),
                get("ini", i, "active"), get("ini", i, "planned"), get("ini", i, "measured"),
                get("ini", i, "budget"), get("ini", i, "external"), get("ini", i, "lines"),
                get("eva", i, "n"), get("eva", i, "done"),
                get("aud", i, "surveys"), get("aud", i, "audiences"),
                get("rat", i, "answered"), get("rat", i, "expected"),
                get("agr", i, "s_total", None), get("agr", i, "s_answers"),
                get("agr", i, "s_people"), get("agr", i, "f_total", None),
                get("agr", i, "f_answers"), get("agr", i, "f_people"),
                get("pln", i, "channels", None), get("sto", i, "total"),
                get("sto", i, "shared"), get("sto", i, "others"),
                i in parts["swt"], get("par", i, "n"),
                get("app", i, "used"), get("app", i, "cleared"),
            )
        )  # fmt: skip
    return rows


def floor(district_id: int, today, *, per_table: bool = False) -> list:
    """Every school's scored result from plain SQL through a raw cursor: one statement for
    every figure (or one per evidence table) and one for the district's targets."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection

    from readiness.indicators import (
        OTHER_TELLERS,
        REGISTRY,
        STORY_DAYS,
        SURVEY_AUDIENCES,
        YEAR_DAYS,
        Reading,
        cohort_year,
    )
    from readiness.services import score_school
    from schools.models import TEACHING_POSITIONS, device_target

    params = {
        "district": district_id,
        "today": today,
        "year_ago": today - timedelta(days=YEAR_DAYS - 1),
        "story_since": today - timedelta(days=STORY_DAYS - 1),
        "cohort": cohort_year(today),
        "tz": settings.TIME_ZONE,
        "teaching": tuple(sorted(TEACHING_POSITIONS)),
        "others": tuple(OTHER_TELLERS),
    }
    statement, dev_params = floor_sql(today)
    params.update(dev_params)
    with connection.cursor() as cursor:
        if per_table:
            rows = _per_table_rows(cursor, statement, params)
        else:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        cursor.execute(TARGETS_SQL, params)
        overrides = cursor.fetchall()
    targets = {key: (spec.target, spec.weight) for key, spec in REGISTRY.items()}
    for key, target, weight in overrides:
        if key in REGISTRY:
            targets[key] = (target, REGISTRY[key].weight if weight is None else weight)

    none = Reading(None, 0, "")

    def share(part, whole):
        return Reading(part / whole, whole) if whole else none

    def agreement(total, answers, people):
        return Reading((total / answers - 1) / 4, people) if answers else none

    results = []
    for row in rows:
        (
            school_id, _district, enrollment, pk_2, ratio,
            usable, touch_usable, touch_beyond_k2, connected, known,
            teaching, met, hours, embedded, attendances,
            leaders, feedback_mean, feedback_n, polls,
            active, planned, measured, budget, external, lines, in_hands, evaluated,
            surveys, audiences, answered, expected,
            s_total, s_answers, s_people, f_total, f_answers, f_people,
            channels, stories, shared, others, swot, partnerships,
            apps_used, apps_cleared,
        ) = row  # fmt: skip
        target = device_target(enrollment, ratio)
        touch_target = pk_2 + touch_beyond_k2
        hours, embedded, budget = float(hours), float(embedded), float(budget)
        readings = {
            "device_coverage": Reading(usable / target, target) if target else none,
            "touch_coverage": (
                Reading(touch_usable / touch_target, touch_target) if touch_target else none
            ),
            "home_connectivity": share(connected, known),
            "pedagogy_plan": share(planned, active),
            "initiatives_measured": share(measured, active),
            "pd_hours_met": share(met, teaching),
            "pd_job_embedded": Reading(embedded / hours, attendances) if hours else none,
            "learning_leaders": Reading(leaders / teaching, teaching) if teaching else none,
            "pd_feedback": Reading(feedback_mean, feedback_n) if feedback_n else none,
            "needs_poll": Reading(1.0 if polls else 0.0, polls),
            "student_voice": agreement(s_total, s_answers, s_people),
            "surveys_per_audience": Reading(audiences / len(SURVEY_AUDIENCES), surveys),
            "survey_response_rate": (Reading(answered / expected, answered) if expected else none),
            "communication_plans": Reading(1.0 if channels else 0.0, 1 if channels else 0),
            "stories_shared": Reading(float(shared), shared),
            "stories_by_others": share(others, stories),
            "swot_recent": Reading(1.0, 1) if swot else Reading(0.0, 0),
            "family_sentiment": agreement(f_total, f_answers, f_people),
            "partnerships_active": Reading(float(partnerships), partnerships),
            "external_funding": Reading(float(external) / budget, lines) if budget else none,
            "initiatives_evaluated": share(evaluated, in_hands),
            "apps_cleared": share(apps_cleared, apps_used),
        }
        results.append(score_school(SimpleNamespace(pk=school_id), readings, targets))
    return results


def _job(district_id: int) -> tuple[float, int, list[tuple[float, str]], object]:
    """Run the real task body once: (seconds, queries, slowest queries, the run). The
    queries are those of every connection the run used: its own, and those its readers
    open on other threads (``readiness.services.read_indicators``)."""
    import threading

    from django.db import connection
    from django.db.backends.signals import connection_created
    from django.test.utils import CaptureQueriesContext

    from readiness.models import ReadinessRun, RunKind
    from readiness.tasks import compute_run

    readers = []

    def log_reader(sender, connection, **kwargs) -> None:
        if threading.current_thread() is not threading.main_thread():
            connection.force_debug_cursor = True  # its queries_log, read below
            readers.append(connection)

    run = ReadinessRun.unscoped.create(district_id=district_id, kind=RunKind.NIGHTLY)
    connection_created.connect(log_reader)
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            compute_run.apply(args=[run.pk], throw=True)
            seconds = time.perf_counter() - started
    finally:
        connection_created.disconnect(log_reader)
    captured = list(queries.captured_queries)
    for reader in readers:
        captured.extend(reader.queries_log)
    slowest = sorted(
        ((float(q["time"]), " ".join(q["sql"].split())[:160]) for q in captured),
        reverse=True,
    )[:8]
    run.refresh_from_db()
    return seconds, len(captured), slowest, run


def _undo_changed_run(district_id: int, run, target) -> None:
    """Put the district back as it was before a changed run: the run and its snapshots go,
    the target is restored (``target``: the row as it was, or None)."""
    from django.db import connection, transaction

    from readiness.models import IndicatorTarget

    with transaction.atomic():
        if run is not None:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM readiness_snapshot WHERE run_id = %s", [run.pk])
                cursor.execute("DELETE FROM readiness_readinessrun WHERE id = %s", [run.pk])
        IndicatorTarget.unscoped.filter(district_id=district_id, indicator=CHANGED_KEY).delete()
        if target is not None:
            target.pk = None
            target.save()


def _snapshot_rows(run_id: int) -> bytes:
    """The snapshot rows a run wrote, as COPY text (read once, not timed)."""
    import io

    from django.db import connection

    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY (SELECT * FROM readiness_snapshot WHERE run_id = {int(run_id)}) TO STDOUT",  # noqa: S608 - an int
            buffer,
        )
    return buffer.getvalue()


def _time_bare_copy(rows: bytes) -> float:
    """``COPY ... FROM STDIN`` of those rows into a bare table of the snapshot's columns (no
    index, no key, no constraint), rolled back: the floor of writing what the job writes."""
    import io

    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE bench_snapshot_floor (LIKE readiness_snapshot)")
            started = time.perf_counter()
            cursor.cursor.copy_expert("COPY bench_snapshot_floor FROM STDIN", io.BytesIO(rows))
            seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def _check(district_id: int, results) -> int:
    """The floor's result equals the job's latest snapshot for every school."""
    from readiness.services import latest_snapshots

    latest = latest_snapshots([r.school.pk for r in results])
    problems = []
    for r in results:
        snap = latest.get(r.school.pk)
        if snap is None:
            problems.append(f"school {r.school.pk}: the job stored no snapshot")
            continue
        if snap.fingerprint != r.fingerprint or snap.pillars != r.pillars:
            job = {i["key"]: (i["value"], i["evidence"]) for i in snap.indicators}
            mine = {i.key: (i.as_json()["value"], i.evidence) for i in r.indicators}
            differ = {k: (job.get(k), mine[k]) for k in mine if job.get(k) != mine[k]}
            problems.append(f"school {r.school.pk}: job vs floor {differ}")
        elif snap.overall != r.overall:
            problems.append(f"school {r.school.pk}: overall {snap.overall} vs {r.overall}")
    if problems:
        raise AssertionError(
            f"the floor differs from the job for {len(problems)} schools:\n"
            + "\n".join(problems[:10])
        )
    return len(results)


def measure(size: int) -> dict:
    from schools.scoping import outside_scope

    with outside_scope():
        return _measure(size)


def _measure(size: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from readiness.indicators import REGISTRY
    from readiness.models import IndicatorTarget, Snapshot
    from schools.models import District, School

    district = District.unscoped.get(name=DISTRICT)
    schools = School.unscoped.filter(district=district).count()
    today = timezone.localdate()

    # The steady nightly run: first one to bring the snapshots up to date, then three timed.
    _job(district.pk)
    steady = [_job(district.pk) for _ in range(RUNS)]

    # Every school changed: a district target moves every fingerprint. Committed, as an
    # admin's change is, so the run reads it on every connection; undone after each run.
    changed = []
    snapshot_bytes = None
    before = IndicatorTarget.unscoped.filter(district=district, indicator=CHANGED_KEY).first()
    for _ in range(RUNS):
        IndicatorTarget.unscoped.update_or_create(
            district=district, indicator=CHANGED_KEY, defaults={"target": 4.0}
        )
        run = None
        try:
            seconds, count, slowest, run = _job(district.pk)
            if snapshot_bytes is None:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*), sum(pg_column_size(s.*)),"
                        " sum(length(s.indicators::text)) FROM readiness_snapshot s"
                        " WHERE s.run_id = %s",
                        [run.pk],
                    )
                    rows, stored, text = cursor.fetchone()
                snapshot_bytes = {"rows": rows, "stored": int(stored), "json_text": int(text)}
                written = _snapshot_rows(run.pk)
            changed.append((seconds, count, slowest, run))
            # The floor against the job's changed snapshots.
            _check(district.pk, floor(district.pk, today))
        finally:
            _undo_changed_run(district.pk, run, before)

    # The floor: one statement for every figure, and one statement per evidence table; each
    # with the server's JIT setting and without JIT (the job turns it off for its reads).
    # Three timed runs of each; the fastest median is the floor. Then the checks.
    floors: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for shape in ("one statement", "per table"):
        for setting in ("on", "off"):
            with connection.cursor() as cursor:
                # The app's connections start with JIT off (config/settings.py); the
                # floor is measured both ways and the faster one counts.
                cursor.execute("SET jit = on" if setting == "on" else "SET jit = off")
            label = f"{shape}, JIT {setting}"
            floors[label] = []
            for _ in range(RUNS):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    results = floor(district.pk, today, per_table=shape == "per table")
                    floors[label].append(time.perf_counter() - started)
                counts[label] = len(queries)
            checked = _check(district.pk, results)
    with connection.cursor() as cursor:
        cursor.execute("RESET jit")
    floor_medians = {k: statistics.median(v) for k, v in floors.items()}
    best = min(floor_medians, key=floor_medians.get)
    write_floor = statistics.median(_time_bare_copy(written) for _ in range(RUNS))

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('readiness_snapshot')")
        (table_bytes,) = cursor.fetchone()
    steady_run = steady[-1][3]
    return {
        "size": size,
        "schools": schools,
        "indicators": len(REGISTRY),
        "job_seconds": statistics.median(s[0] for s in steady),
        "job_queries": steady[-1][1],
        "job_slowest": steady[-1][2],
        "job_stored": steady_run.snapshots_stored,
        "job_unchanged": steady_run.schools_unchanged,
        "changed_seconds": statistics.median(c[0] for c in changed),
        "changed_queries": changed[-1][1],
        "changed_slowest": changed[-1][2],
        "changed_stored": changed[-1][3].snapshots_stored,
        "floor_seconds": floor_medians[best],
        "floor_queries": counts[best],
        "floor_best": best,
        "floor_variants": {k: [floor_medians[k], counts[k]] for k in floor_medians},
        "write_floor_seconds": write_floor,
        "checked_schools": checked,
        "snapshot": snapshot_bytes,
        "snapshot_table_bytes": table_bytes,
        "snapshots_in_table": Snapshot.unscoped.count(),
    }


def render(results: dict[int, dict]) -> str:
    rows = []
    for size, r in sorted(results.items()):
        write = r.get("write_floor_seconds", 0.0)
        for label, seconds, queries, floor_s, floor_q in (
            (
                "nightly, nothing changed",
                r["job_seconds"],
                r["job_queries"],
                r["floor_seconds"],
                r["floor_queries"],
            ),
            (
                "every school changed",
                r["changed_seconds"],
                r["changed_queries"],
                r["floor_seconds"] + write,
                r["floor_queries"] + 1,
            ),
        ):
            ratio = seconds / floor_s if floor_s else None
            rows.append(
                [
                    size,
                    r["schools"],
                    label,
                    round(seconds, 2),
                    queries,
                    round(floor_s, 2),
                    floor_q,
                    f"{ratio:.2f}×" if ratio is not None else None,
                    verdict(ratio is not None and ratio <= GOAL) if size == max(results) else "–",
                ]
            )
    counts = {r["job_queries"] for r in results.values()}
    changed_counts = {r["changed_queries"] for r in results.values()}
    sizes_rows = []
    for size, r in sorted(results.items()):
        snap = r["snapshot"] or {}
        per_school = snap.get("stored", 0) / max(snap.get("rows", 0) or 1, 1)
        sizes_rows.append(
            [
                size,
                snap.get("rows"),
                f"{snap.get('stored', 0) / 2**20:.2f} MiB",
                f"{per_school / 1024:.1f} KiB",
                f"{snap.get('json_text', 0) / max(snap.get('rows', 0) or 1, 1) / 1024:.1f} KiB",
                f"{r['snapshot_table_bytes'] / 2**20:.1f} MiB",
            ]
        )
    largest = results[max(results)]
    slowest = [
        f"- {seconds:.3f} s `{sql[:110]}…`" for seconds, sql in largest["changed_slowest"][:6]
    ]
    floors = []
    for size, r in sorted(results.items()):
        variants = r.get("floor_variants", {})
        write = r.get("write_floor_seconds")
        floors.append(
            f"- {size:,} students: "
            + "; ".join(f"{k} {v[0]:.2f} s ({v[1]} queries)" for k, v in variants.items())
            + (
                f"; writing the changed snapshots (bare COPY) {write:.2f} s, so every school "
                f"changed is {r['changed_seconds'] / r['floor_seconds']:.2f}× the reading "
                "floor alone"
                if write is not None and r["floor_seconds"]
                else ""
            )
        )
    return "\n".join(
        [
            "## Readiness for the whole district",
            "",
            "The real job (`readiness.tasks.compute_run` through `apply()`: every indicator, "
            "the scoring, the snapshots, the run and its summary) against the floor: the same "
            "figures as one plain SQL statement (a CTE per evidence table, grouped by school) "
            "and one for the targets, through a raw cursor, scored in Python by the job's own "
            "`score_school`. Median of three runs. The floor's result was checked equal to the "
            "job's snapshot for every school (fingerprint, pillars, overall). Where every "
            "school changed, the job also writes a snapshot per school, so its floor adds a "
            "bare `COPY ... FROM STDIN` of the same snapshot rows into a table of the same "
            "columns without index or key (the floor of writing, as the importer's and the "
            "roster's floors are). A district of 200 schools or more is read by "
            "`READINESS_READERS` (2) threads at once, each on its own connection; the queries "
            "counted are those of every connection. The changed target is committed, as an "
            "admin's change is, and put back after each run. The goal is "
            "held at the largest size: with two schools both take milliseconds and the job's "
            "fixed cost (its round trips, the run's bookkeeping) is all the ratio shows.",
            "",
            table(
                [
                    "students",
                    "schools",
                    "run",
                    "job s",
                    "job queries",
                    "floor s",
                    "floor queries",
                    "job ÷ floor",
                    f"goal ≤ {GOAL}×",
                ],
                rows,
            ),
            "",
            "Job query count the same at every size: "
            + verdict(len(counts) == 1 and len(changed_counts) == 1)
            + f" (nothing changed: {', '.join(str(c) for c in sorted(counts))}; "
            + f"every school changed: {', '.join(str(c) for c in sorted(changed_counts))}).",
            "",
            "Snapshots written by one run in which every school changed:",
            "",
            table(
                [
                    "students",
                    "snapshots",
                    "stored (rows)",
                    "per school",
                    "JSON text per school",
                    "snapshot table now",
                ],
                sizes_rows,
            ),
            "",
            "Every floor variant's median (the fastest is the floor above; the job turns JIT "
            "off for its reads):",
            "",
            *floors,
            "",
            f"Slowest queries of the job at {max(results):,} students (every school changed):",
            "",
            *slowest,
        ]
    )


if __name__ == "__main__":
    section_main(measure)
