"""Google's Directory API through Google's own client: ``google-api-python-client`` with
``google-auth`` service-account credentials (domain-wide delegation: the key signs a JWT
assertion naming the admin it acts as, ``subject``, and the key file's ``token_uri``
exchanges it for an access token).

The API's base URL is ``settings.GOOGLE_DIRECTORY_API_URL`` (Google's by default) and the
discovery document is the one shipped with the client (``static_discovery``), so the tests
and the benchmark point both at a server on loopback and the client runs unchanged.

Quota: Google answers 403 ``rateLimitExceeded`` / ``userRateLimitExceeded``, 429 or 503
when a customer asks too fast; ``execute`` then waits (exponential, ``Retry-After`` when
Google sends one) and sends the same request again, so a list resumes at the page it was
on. After ``GOOGLE_SYNC_MAX_RETRIES`` waits it gives up with ``GoogleProblem``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import httplib2
from django.conf import settings
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from core.sealing import SecretUnreadable, unseal

from .models import KEY_PURPOSE

SCOPE = "https://www.googleapis.com/auth/admin.directory.device.chromeos"
SCOPE_READONLY = SCOPE + ".readonly"
PAGE_SIZE = 300  # the API's maximum
# What a sync reads of each device: no recent users, no reports, nothing about people.
LIST_FIELDS = (
    "nextPageToken,chromeosdevices(deviceId,serialNumber,status,model,orgUnitPath,"
    "annotatedAssetId,annotatedLocation,autoUpdateThrough,autoUpdateExpiration,lastSync)"
)
QUOTA_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
RETRY_STATUSES = {429, 500, 503}
DISABLE = "CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DISABLE"
REENABLE = "CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_REENABLE"


class GoogleProblem(Exception):
    """Google could not be reached or refused; the message says why, for a person."""


def _reason(exc: HttpError) -> str:
    try:
        error = json.loads(exc.content or b"{}").get("error", {})
    except ValueError:
        return ""
    reasons = [e.get("reason", "") for e in error.get("errors", [])]
    return reasons[0] if reasons else error.get("status", "")


def _message(exc: HttpError) -> str:
    try:
        text = json.loads(exc.content or b"{}").get("error", {}).get("message", "")
    except ValueError:
        text = ""
    return text or exc.resp.reason or "no explanation"


def is_quota(exc: HttpError) -> bool:
    status = exc.resp.status
    return status in RETRY_STATUSES or (status == 403 and _reason(exc) in QUOTA_REASONS)


def explain(exc: Exception) -> str:
    if isinstance(exc, HttpError):
        return f"Google answered {exc.resp.status}: {_message(exc)}"
    if isinstance(exc, GoogleAuthError):
        return (
            "Google refused the service account's sign-in: "
            f"{exc}. Check the key, the admin e-mail and the domain-wide delegation scopes."
        )
    return f"Google could not be reached: {exc}"


class Directory:
    """The Directory API for one connection. ``write`` asks for the read-write scope."""

    def __init__(self, connection, *, write: bool = False, on_backoff: Callable | None = None):
        try:
            info = json.loads(unseal(connection.key_sealed, purpose=KEY_PURPOSE))
        except SecretUnreadable:
            raise GoogleProblem(
                "The stored service-account key cannot be read (the site's keys changed): "
                "upload the key file again."
            ) from None
        try:
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=[SCOPE if write else SCOPE_READONLY], subject=connection.admin_email
            )
        except (ValueError, KeyError) as exc:
            raise GoogleProblem(f"The stored key is not a service-account key: {exc}") from None
        http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=settings.GOOGLE_API_TIMEOUT))
        self.api = build(
            "admin",
            "directory_v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": settings.GOOGLE_DIRECTORY_API_URL},
        )
        self.customer = connection.customer_id
        self.on_backoff = on_backoff or (lambda status, wait: None)

    def execute(self, request):
        """Send ``request``; wait and send it again while Google says the quota is spent."""
        tries = settings.GOOGLE_SYNC_MAX_RETRIES
        for attempt in range(tries + 1):
            try:
                return request.execute()
            except HttpError as exc:
                if not is_quota(exc) or attempt == tries:
                    if is_quota(exc):
                        raise GoogleProblem(
                            f"Google's quota stayed spent after {tries} waits "
                            f"({explain(exc)}); try again later."
                        ) from None
                    raise GoogleProblem(explain(exc)) from None
                wait = _wait(exc, attempt)
                self.on_backoff(exc.resp.status, wait)
                time.sleep(wait)
            except (GoogleAuthError, httplib2.HttpLib2Error, OSError) as exc:
                raise GoogleProblem(explain(exc)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def devices(
        self, *, org_unit: str = "/", query: str = "", on_page: Callable | None = None
    ) -> Iterator[dict]:
        """Every Chromebook under ``org_unit`` (matching ``query``), page by page."""
        token = None
        while True:
            params = {
                "customerId": self.customer,
                "projection": "FULL",
                "fields": LIST_FIELDS,
                "maxResults": PAGE_SIZE,
                "orderBy": "serialNumber",
            }
            if org_unit and org_unit != "/":
                params.update(orgUnitPath=org_unit, includeChildOrgunits=True)
            if query:
                params["query"] = query
            if token:
                params["pageToken"] = token
            page = self.execute(self.api.chromeosdevices().list(**params))
            items = page.get("chromeosdevices", [])
            yield from items
            if on_page:
                on_page(len(items))
            token = page.get("nextPageToken")
            if not token:
                return

    def change_status(self, google_id: str, action: str) -> dict:
        """Disable or re-enable one device (batchChangeStatus); Google's result for it."""
        answer = self.execute(
            self.api.customer()
            .devices()
            .chromeos()
            .batchChangeStatus(
                customerId=self.customer,
                body={"deviceIds": [google_id], "changeChromeOsDeviceStatusAction": action},
            )
        )
        results = answer.get("changeChromeOsDeviceStatusResults", [])
        result = next((r for r in results if r.get("deviceId") == google_id), None)
        if result is None:
            raise GoogleProblem("Google's answer did not mention the device.")
        if result.get("error"):
            error = result["error"]
            raise GoogleProblem(
                f"Google refused: {error.get('message') or 'no explanation'} "
                f"(code {error.get('code', '?')})"
            )
        return result

    def annotate(self, google_id: str, fields: dict) -> dict:
        """Write annotated fields (asset id, location, notes); Google's device as it is now."""
        return self.execute(
            self.api.chromeosdevices().patch(
                customerId=self.customer,
                deviceId=google_id,
                projection="BASIC",
                body=fields,
            )
        )

    def status_of(self, google_id: str) -> str:
        device = self.execute(
            self.api.chromeosdevices().get(
                customerId=self.customer, deviceId=google_id, projection="BASIC", fields="status"
            )
        )
        return device.get("status", "")


def _wait(exc: HttpError, attempt: int) -> float:
    retry_after = exc.resp.get("retry-after")
    base = settings.GOOGLE_SYNC_BACKOFF_SECONDS
    if retry_after and retry_after.isdigit():
        return min(float(retry_after), 60 * base)
    return min(base * 2**attempt, 64 * base) * (1 + random.random() / 4)  # noqa: S311


# --- reading a device ---------------------------------------------------------------------


def when(value) -> datetime | None:
    """A Directory API time (RFC 3339, or milliseconds since 1970 as a string)."""
    if not value:
        return None
    if isinstance(value, str) and value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def expiration(device: dict) -> date | None:
    """The device's own auto-update expiration (``autoUpdateThrough``, else the older
    ``autoUpdateExpiration``)."""
    moment = when(device.get("autoUpdateThrough")) or when(device.get("autoUpdateExpiration"))
    return moment.date() if moment else None
