"""A stand-in for Google on loopback: the OAuth token endpoint a service-account key names
(``token_uri``) and the Directory API's Chrome OS device routes, served by pytest-httpserver
to the real ``google-api-python-client``.

The token endpoint verifies the JWT assertion ``google-auth`` signs with the key (RS256
against the key's public half; issuer, subject, audience and scope), as Google does, and
hands out an access token the device routes then require. The device routes answer as the
published API does: ``chromeosdevices.list`` pages by ``pageToken`` (at most ``maxResults``,
capped by ``page_size``), honours ``orgUnitPath`` (+ ``includeChildOrgunits``) and the
``sync:YYYY-MM-DD..`` query, and refuses a request without ``projection=FULL`` or a fields
mask; ``patch``/``get``/``batchChangeStatus`` change and report a device. ``faults`` queue
error answers (quota: 403 rateLimitExceeded, 429, 503; or any other) for the next calls.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt
from werkzeug import Request, Response

API = r"^/admin/directory/v1/customer/(?P<customer>[^/]+)/devices/chromeos"
SCOPE = "https://www.googleapis.com/auth/admin.directory.device.chromeos"
# The audience google-auth puts in a service account's assertion, whatever the key's
# token_uri, and the one Google's token endpoint requires.
AUDIENCE = "https://oauth2.googleapis.com/token"


def _json(data, status=200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _error(status: int, reason: str, message: str) -> Response:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message}],
        }
    }
    return _json(body, status)


QUOTA = {
    403: ("rateLimitExceeded", "Quota exceeded for quota metric 'Queries'."),
    429: ("rateLimitExceeded", "Too many requests."),
    503: ("backendError", "The service is currently unavailable."),
}


class FakeDirectory:
    def __init__(
        self, httpserver, *, customer="C01pw", admin="it-admin@riverbend.example", page_size=300
    ):
        self.server = httpserver
        self.customer, self.admin, self.page_size = customer, admin, page_size
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = "pillarwise-sync@riverbend-admin.iam.gserviceaccount.com"
        self.devices: dict[str, dict] = {}
        self.faults: list[tuple[int, str]] = []  # (status, route) to answer next
        self.tokens: set[str] = set()
        self.token_requests: list[dict] = []  # the verified claims of each assertion
        self.calls: list[tuple[str, str, dict]] = []  # (method, route, query or body)
        self.lock = threading.Lock()
        self._sorted: list[dict] | None = None  # the devices by serial, until one is added
        httpserver.expect_request("/token", method="POST").respond_with_handler(self._token)
        httpserver.expect_request(
            re.compile(API + r":batchChangeStatus$"), method="POST"
        ).respond_with_handler(self._batch)
        httpserver.expect_request(
            re.compile(API + r"/(?P<id>[^/]+)$"), method="PATCH"
        ).respond_with_handler(self._patch)
        httpserver.expect_request(
            re.compile(API + r"/(?P<id>[^/]+)$"), method="GET"
        ).respond_with_handler(self._get)
        httpserver.expect_request(re.compile(API + r"$"), method="GET").respond_with_handler(
            self._list
        )

    # --- what a test arranges ---------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.server.url_for("/")

    def key_file(self) -> str:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "riverbend-admin",
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": pem,
                "client_email": self.client_email,
                "client_id": "100000000000000000001",
                "token_uri": self.server.url_for("/token"),
            }
        )

    def add(
        self,
        serial,
        *,
        status="ACTIVE",
        model="Acer Chromebook Spin 512",
        ou="/",
        asset="",
        location="",
        aue="2029-06-01",
        last_sync=None,
        users=("student1@riverbend.example",),
    ):
        google_id = f"dev-{serial}"
        self._sorted = None
        self.devices[google_id] = {
            "kind": "admin#directory#chromeosdevice",
            "deviceId": google_id,
            "serialNumber": serial,
            "status": status,
            "model": model,
            "orgUnitPath": ou,
            "annotatedAssetId": asset,
            "annotatedLocation": location,
            "autoUpdateThrough": f"{aue}T00:00:00Z" if aue else None,
            "lastSync": (last_sync or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "recentUsers": [{"type": "USER_TYPE_MANAGED", "email": u} for u in users],
            "notes": "",
        }
        return google_id

    def list_calls(self) -> list[dict]:
        return [q for method, route, q in self.calls if route == "list"]

    # --- the routes -------------------------------------------------------------------------

    def _fault(self, route: str) -> Response | None:
        with self.lock:
            for i, (status, where) in enumerate(self.faults):
                if where in (route, "*"):
                    del self.faults[i]
                    reason, message = QUOTA.get(
                        status, ("forbidden", "Not Authorized to access this resource/api")
                    )
                    response = _error(status, reason, message)
                    if status == 429:
                        response.headers["Retry-After"] = "0"
                    return response
        return None

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _json({"error": "unsupported_grant_type"}, 400)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        try:
            claims = jwt.decode(form.get("assertion", ""), certs=public, audience=AUDIENCE)
        except ValueError as exc:
            return _json({"error": "invalid_grant", "error_description": str(exc)}, 400)
        if claims.get("iss") != self.client_email or claims.get("sub") != self.admin:
            return _json(
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens "
                    "using this method, or client not authorized for any of the scopes requested.",
                },
                401,
            )
        if not set(claims.get("scope", "").split()) & {SCOPE, SCOPE + ".readonly"}:
            return _json({"error": "invalid_scope"}, 400)
        self.token_requests.append(claims)
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _list(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, "authError", "Invalid Credentials")
        query = request.args.to_dict()
        self.calls.append(("GET", "list", query))
        if (fault := self._fault("list")) is not None:
            return fault
        customer = re.match(API, request.path).group("customer")
        if customer not in (self.customer, "my_customer"):
            return _error(404, "notFound", "Resource Not Found: customer")
        if query.get("projection") != "FULL" or "chromeosdevices(" not in query.get("fields", ""):
            return _error(400, "invalid", "Expected projection=FULL and a fields mask")
        if self._sorted is None or len(self._sorted) != len(self.devices):
            self._sorted = sorted(self.devices.values(), key=lambda d: d["serialNumber"])
        items = self._sorted
        ou = query.get("orgUnitPath")
        if ou:
            below = query.get("includeChildOrgunits") == "true"
            items = [
                d
                for d in items
                if d["orgUnitPath"] == ou
                or (below and d["orgUnitPath"].startswith(ou.rstrip("/") + "/"))
            ]
        q = query.get("query", "")
        if q:
            since = re.fullmatch(r"sync:(\d{4}-\d{2}-\d{2})\.\.", q)
            if not since:
                return _error(400, "invalid", "Invalid query")
            items = [d for d in items if d["lastSync"][:10] >= since.group(1)]
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults", 100)), self.page_size)
        page = items[start : start + size]
        fields = query["fields"]
        shown = set(re.search(r"chromeosdevices\(([^)]*)\)", fields).group(1).split(","))
        body = {
            "kind": "admin#directory#chromeosdevices",
            "chromeosdevices": [
                {k: v for k, v in d.items() if k in shown and v is not None} for d in page
            ],
        }
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return _json(body)

    def _device(self, request: Request) -> dict | None:
        google_id = re.match(API + r"/(?P<id>[^/]+)$", request.path).group("id")
        return self.devices.get(google_id)

    def _get(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, "authError", "Invalid Credentials")
        self.calls.append(("GET", "get", request.args.to_dict()))
        if (fault := self._fault("get")) is not None:
            return fault
        device = self._device(request)
        if device is None:
            return _error(404, "notFound", "Resource Not Found: deviceId")
        return _json({"kind": device["kind"], "status": device["status"]})

    def _patch(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, "authError", "Invalid Credentials")
        body = request.get_json()
        self.calls.append(("PATCH", "patch", body))
        if (fault := self._fault("patch")) is not None:
            return fault
        device = self._device(request)
        if device is None:
            return _error(404, "notFound", "Resource Not Found: deviceId")
        for key in (
            "annotatedAssetId",
            "annotatedLocation",
            "annotatedUser",
            "notes",
            "orgUnitPath",
        ):
            if key in body:
                device[key] = body[key]
        return _json({k: v for k, v in device.items() if k != "recentUsers"})

    def _batch(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, "authError", "Invalid Credentials")
        body = request.get_json()
        self.calls.append(("POST", "batchChangeStatus", body))
        if (fault := self._fault("batchChangeStatus")) is not None:
            return fault
        action = body.get("changeChromeOsDeviceStatusAction", "")
        results = []
        for google_id in body.get("deviceIds", []):
            device = self.devices.get(google_id)
            if device is None:
                results.append(
                    {"deviceId": google_id, "error": {"code": 5, "message": "Device not found"}}
                )
            elif action.endswith("_DISABLE") and device["status"] == "ACTIVE":
                device["status"] = "DISABLED"
                results.append({"deviceId": google_id, "response": {}})
            elif action.endswith("_REENABLE") and device["status"] == "DISABLED":
                device["status"] = "ACTIVE"
                results.append({"deviceId": google_id, "response": {}})
            else:
                results.append(
                    {
                        "deviceId": google_id,
                        "error": {"code": 9, "message": f"Device is {device['status']}"},
                    }
                )
        return _json({"changeChromeOsDeviceStatusResults": results})


_SHARED: list = []


def shared_fake() -> FakeDirectory:
    """One fake Google for the whole test process, emptied for each caller: for code that
    arranges its world without fixtures (tests/readiness/test_every_write_path.py). The
    caller points GOOGLE_DIRECTORY_API_URL at ``api_url``."""
    from pytest_httpserver import HTTPServer

    if not _SHARED:
        server = HTTPServer(host="127.0.0.1", port=0)
        server.start()
        import atexit

        atexit.register(server.stop)
        _SHARED.append(server)
    server = _SHARED[0]
    server.clear()
    return FakeDirectory(server)
