# ruff: noqa: E501
"""A OneRoster REST server and an Ed-Fi ODS/API server on loopback (pytest-httpserver),
serving a ``Roster`` as each spec shapes its pages, with tokens and faults."""

from __future__ import annotations

import json
from collections.abc import Callable

from werkzeug import Request, Response

from .roster_data import Roster

TOKEN = "token-abc"
CLIENT = ("pillarwise", "s3cret-value")


class Faults:
    """Faults served once each, by path: {"users": [401, 429, 500, "cut"]} answers the first
    four requests for users with those, then normally. ``always`` answers forever."""

    def __init__(self):
        self.queue: dict[str, list] = {}
        self.always: dict[str, object] = {}
        self.log: list[str] = []

    def next(self, path: str):
        if path in self.always:
            return self.always[path]
        pending = self.queue.get(path) or []
        return pending.pop(0) if pending else None


def _token_handler(request: Request) -> Response:
    auth = request.authorization
    if not auth or (auth.username, auth.password) != CLIENT:
        return Response(json.dumps({"error": "invalid_client"}), 401, mimetype="application/json")
    if request.form.get("grant_type") != "client_credentials":
        return Response(json.dumps({"error": "unsupported_grant_type"}), 400)
    body = {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}
    return Response(json.dumps(body), 200, mimetype="application/json")


def _paged(
    records: list[dict],
    key: str | None,
    total_header: str,
    faults: Faults,
    path: str,
    versions: list[int] | None = None,
) -> Callable[[Request], Response]:
    """``versions``: each record's change version, for Ed-Fi's ``minChangeVersion`` and
    ``maxChangeVersion`` (both inclusive)."""

    def handler(request: Request) -> Response:
        faults.log.append(f"{path}?{request.query_string.decode()}")
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("", 401)
        fault = faults.next(path)
        chosen = records
        if versions is not None and (
            "minChangeVersion" in request.args or "maxChangeVersion" in request.args
        ):
            low = int(request.args.get("minChangeVersion", 0))
            high = int(request.args.get("maxChangeVersion", 2**62))
            chosen = [r for r, v in zip(records, versions, strict=True) if low <= v <= high]
        if fault == 401:
            return Response("", 401)
        if fault == 429:
            return Response("", 429, headers={"Retry-After": "0"})
        if fault == 500:
            return Response("oops", 500)
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
        page = chosen[offset : offset + limit]
        body = json.dumps(page if key is None else {key: page})
        if fault == "cut":
            body = body[: len(body) // 2]
        if fault == "short":  # fewer records than the page should hold
            body = json.dumps(page[:-1] if key is None else {key: page[:-1]})
        return Response(body, 200, headers={total_header: str(len(chosen))},
                        mimetype="application/json")  # fmt: skip

    return handler


def oneroster_users(roster: Roster) -> list[dict]:
    users = []
    for k in roster.kids:
        users.append({
            "sourcedId": k.sourced_id, "status": k.status, "dateLastModified": "2026-08-01T00:00:00Z",
            "username": f"{k.given.lower()}.{k.family.lower()}", "enabledUser": "true",
            "givenName": k.given, "familyName": k.family, "middleName": "Q", "role": "student",
            "identifier": k.number, "email": k.email, "sms": "", "phone": k.phone,
            "agents": [{"href": "", "sourcedId": "p-1", "type": "user"}],
            "orgs": [{"href": "", "sourcedId": roster.school_sid(k.school), "type": "org"}],
            "grades": [k.grade], "metadata": {"programCodes": list(k.programs), "birthDate": k.birth},
        })  # fmt: skip
    for a in roster.adults:
        users.append({
            "sourcedId": a.sourced_id, "status": "active", "enabledUser": "true",
            "givenName": a.given, "familyName": a.family, "role": a.role, "identifier": "",
            "email": a.email, "orgs": [{"sourcedId": roster.school_sid(a.school), "type": "org"}],
        })  # fmt: skip
    return users


def serve_oneroster(httpserver, roster: Roster, faults: Faults | None = None) -> Faults:
    faults = faults or Faults()
    base = "/ims/oneroster/v1p1"
    httpserver.clear()
    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(_token_handler)
    orgs = [{"sourcedId": sid, "status": "active", "name": name, "type": "school",
             "identifier": code} for sid, code, name in roster.schools]  # fmt: skip
    httpserver.expect_request(f"{base}/schools").respond_with_handler(
        _paged(orgs, "orgs", "X-Total-Count", faults, "schools")
    )
    httpserver.expect_request(f"{base}/users").respond_with_handler(
        _paged(oneroster_users(roster), "users", "X-Total-Count", faults, "users")
    )
    return faults


GRADES = {"KG": "Kindergarten", **{f"{n:02d}": w for n, w in enumerate(
    ["", "First grade", "Second grade", "Third grade", "Fourth grade", "Fifth grade",
     "Sixth grade", "Seventh grade", "Eighth grade", "Ninth grade", "Tenth grade",
     "Eleventh grade", "Twelfth grade"]) if n}}  # fmt: skip
SCHOOL_IDS = {"MAPLE": 255901001, "CEDAR": 255901044, "OAK": 255901107}


def school_id(code: str) -> int:
    """Ed-Fi's schoolId of a school code (the district's codes are the state's ids)."""
    return SCHOOL_IDS.get(code) or int(code)


def edfi_resources(roster: Roster) -> dict[str, list[dict]]:
    d = "uri://ed-fi.org/"
    students, ssa, seoa = [], [], []
    for n, k in enumerate(roster.kids):
        students.append({
            "id": f"st{n}", "studentUniqueId": k.number, "firstName": k.given,
            "lastSurname": k.family, "middleName": "Q", "birthDate": k.birth,
            "birthCity": "Austin", "personalTitlePrefix": "",
        })  # fmt: skip
        assoc = {
            "id": f"ssa{n}", "studentReference": {"studentUniqueId": k.number},
            "schoolReference": {"schoolId": school_id(k.school)},
            "entryDate": "2026-08-15",
            "entryGradeLevelDescriptor": f"{d}GradeLevelDescriptor#{GRADES[k.grade]}",
        }  # fmt: skip
        if k.status == "tobedeleted":
            assoc["exitWithdrawDate"] = "2026-09-01"
            assoc["exitWithdrawTypeDescriptor"] = f"{d}ExitWithdrawTypeDescriptor#Graduated"
        ssa.append(assoc)
        item = {
            "id": f"seoa{n}", "studentReference": {"studentUniqueId": k.number},
            "educationOrganizationReference": {"educationOrganizationId": 255901},
            "sexDescriptor": f"{d}SexDescriptor#Female",
            "addresses": [{"streetNumberName": "12 Elm Street", "city": "Austin"}],
            "electronicMails": [{"electronicMailAddress": k.email or "x@example.org"}],
            "telephones": [{"telephoneNumber": k.phone}],
            "studentCharacteristics": [
                {"studentCharacteristicDescriptor": f"{d}StudentCharacteristicDescriptor#{p}"}
                for p in k.programs
            ],
        }  # fmt: skip
        if k.internet is not None:
            item["internetAccessInResidence"] = k.internet
        if k.access:
            item["internetAccessTypeInResidenceDescriptor"] = (
                f"{d}InternetAccessTypeInResidenceDescriptor#{k.access}"
            )
        if k.barrier:
            item["barrierToInternetAccessInResidenceDescriptor"] = (
                f"{d}BarrierToInternetAccessInResidenceDescriptor#{k.barrier}"
            )
        seoa.append(item)
    staffs, assigns = [], []
    for n, a in enumerate(roster.adults):
        staffs.append({"id": f"sf{n}", "staffUniqueId": a.sourced_id, "firstName": a.given,
                       "lastSurname": a.family, "birthDate": "1980-01-01",
                       "electronicMails": [{"electronicMailAddress": a.email,
                                            "electronicMailTypeDescriptor": f"{d}x#Work"}]})  # fmt: skip
        classification = "Teacher" if a.role == "teacher" else "Principal"
        assigns.append({
            "id": f"seoaa{n}", "staffReference": {"staffUniqueId": a.sourced_id},
            "educationOrganizationReference": {"educationOrganizationId": school_id(a.school)},
            "staffClassificationDescriptor": f"{d}StaffClassificationDescriptor#{classification}",
            "beginDate": "2020-08-01", "positionTitle": classification,
        })  # fmt: skip
    schools = [{"id": f"sc{n}", "schoolId": school_id(code), "nameOfInstitution": name}
               for n, (_sid, code, name) in enumerate(roster.schools)]  # fmt: skip
    return {
        "schools": schools,
        "students": students,
        "studentSchoolAssociations": ssa,
        "studentEducationOrganizationAssociations": seoa,
        "staffs": staffs,
        "staffEducationOrganizationAssignmentAssociations": assigns,
    }


def serve_edfi(
    httpserver,
    roster: Roster,
    faults: Faults | None = None,
    *,
    unlisted: tuple[str, ...] = (),
    newest: int = 100,
    oldest: int = 1,
    previous: Roster | None = None,
    deletes: dict[str, list[dict]] | None = None,
    change_queries: bool = True,
) -> Faults:
    """``unlisted``: studentUniqueIds left out of /students (their associations remain).

    Change Queries as the ODS/API serves them: ``/changeQueries/v1/availableChangeVersions``
    answers ``oldest`` and ``newest``; a record differing from ``previous`` (the roster the
    server held before, matched by id) has change version ``newest``, the rest 1;
    ``deletes`` (resource → keyValues) are served by ``{resource}/deletes`` at ``newest``.
    ``change_queries=False``: a server without them (404)."""
    faults = faults or Faults()
    httpserver.clear()
    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(_token_handler)
    resources = edfi_resources(roster)
    resources["students"] = [s for s in resources["students"]
                             if s["studentUniqueId"] not in unlisted]  # fmt: skip
    before = edfi_resources(previous) if previous else {}
    for name, records in resources.items():
        held = {r["id"]: r for r in before.get(name, [])}
        versions = [1 if held.get(r["id"]) == r else newest for r in records]
        httpserver.expect_request(f"/data/v3/ed-fi/{name}").respond_with_handler(
            _paged(records, None, "Total-Count", faults, name, versions)
        )
        gone = [{"id": f"del-{name}-{n}", "changeVersion": newest, "keyValues": keys}
                for n, keys in enumerate((deletes or {}).get(name, []))]  # fmt: skip
        httpserver.expect_request(f"/data/v3/ed-fi/{name}/deletes").respond_with_handler(
            _paged(gone, None, "Total-Count", faults, f"{name}/deletes", [newest] * len(gone))
        )

    def versions_handler(request: Request) -> Response:
        faults.log.append("availableChangeVersions")
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("", 401)
        if faults.next("availableChangeVersions") == 500:
            return Response("oops", 500)
        if not change_queries:
            return Response("", 404)
        body = {"oldestChangeVersion": oldest, "newestChangeVersion": newest}
        return Response(json.dumps(body), 200, mimetype="application/json")

    httpserver.expect_request("/changeQueries/v1/availableChangeVersions").respond_with_handler(
        versions_handler
    )
    return faults
