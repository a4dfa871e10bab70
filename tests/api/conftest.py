import pytest

from api.services import token_create


def bearer(user, *, read_only=False, days=30) -> dict:
    """Headers for the test client carrying a fresh token of ``user``."""
    _row, token = token_create(user=user, name="tests", read_only=read_only, days=days)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(client):
    """``api(user)``: a function calling the API as ``user`` with a read-write token."""

    class Caller:
        def __init__(self, user, read_only=False):
            self.headers = bearer(user, read_only=read_only)

        def __call__(self, method, path, data=None, **headers):
            send = getattr(client, method.lower())
            kwargs = {"headers": {**self.headers, **headers}}
            if data is not None:
                kwargs.update(data=data, content_type="application/json")
            return send(path, **kwargs)

        def get(self, path, **headers):
            return self("GET", path, **headers)

        def post(self, path, data=None, **headers):
            return self("POST", path, data or {}, **headers)

    return Caller
