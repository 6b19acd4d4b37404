"""Helpers for the web tests: form data from profiles, accounts, clients and saved assessments."""

from __future__ import annotations

from tests.factories import make_profile


def form_data(profile: dict | None = None, **extra) -> dict:
    """A profile as a browser would post it: every value as text, booleans as true/false."""
    profile = make_profile() if profile is None else profile
    data = {}
    for key, value in profile.items():
        if value is None:
            data[key] = ""
        elif isinstance(value, bool):
            data[key] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            data[key] = str(int(value))
        else:
            data[key] = str(value)
    data.update(variant="full", mode="new", rules="", as_of="")
    data.update(extra)
    return data


def register(client, email="a@example.com", password="correct horse 1", name="顾问甲"):
    """Register (and so log in) a consultant."""
    return client.post("/auth/register", data={"name": name, "email": email, "password": password,
                                               "confirm": password})


def login(client, email="a@example.com", password="correct horse 1"):
    """Log in a consultant."""
    return client.post("/auth/login", data={"email": email, "password": password})


def logout(client):
    """Log out."""
    return client.post("/auth/logout")


def add_client(client, name="宁波示例精密传动有限公司", **extra) -> int:
    """Create a client of the logged-in consultant and return its id."""
    response = client.post("/clients", data={"name": name, "province": "浙江", "city": "宁波", **extra})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def save_assessment(client, client_id: int, **overrides) -> int:
    """Post the full form for a client and return the saved assessment's id."""
    response = client.post("/assess", data=form_data(make_profile(**overrides), client_id=str(client_id)))
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])
