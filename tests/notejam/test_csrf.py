"""Every form POST needs the session's CSRF token; without it nothing changes and the answer is 400."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/signup", {"email": "new@example.com", "password": "pw", "confirm_password": "pw"}),
        ("/signin", {"email": "alice@example.com", "password": PASSWORD}),
        ("/signout", {}),
        ("/settings", {"current_password": PASSWORD, "new_password": "x", "confirm_password": "x"}),
        ("/pads/create", {"name": "Forged"}),
        ("/notes/create", {"name": "Forged", "text": "x", "pad_id": ""}),
    ],
)
def test_form_posts_without_a_token_are_refused(alice, url, data):
    response = alice.client.post(url, data=data)

    assert response.status_code == 400
    assert "security token is missing or out of date" in response.get_data(as_text=True)
    assert "Forged" not in alice.page("/")
    assert "alice@example.com" in alice.page("/")  # neither signed out nor signed in as someone else


def test_edit_and_delete_posts_without_a_token_change_nothing(alice):
    pad_id = alice.create_pad("Keep")
    note_id = alice.create_note("Keep too", pad_id=pad_id)

    for url, data in [
        (f"/pads/{pad_id}/edit", {"name": "Forged"}),
        (f"/pads/{pad_id}/delete", {}),
        (f"/notes/{note_id}/edit", {"name": "Forged", "text": "x", "pad_id": ""}),
        (f"/notes/{note_id}/delete", {}),
    ]:
        assert alice.client.post(url, data=data).status_code == 400, url

    assert alice.note_names(f"/pads/{pad_id}") == ["Keep too"]


def test_a_wrong_token_is_refused(alice):
    response = alice.client.post("/pads/create", data={"name": "Forged", "csrf_token": "guessed"})

    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(alice, bob):
    bobs_token = bob.csrf_token("/")

    response = alice.client.post("/pads/create", data={"name": "Forged", "csrf_token": bobs_token})

    assert response.status_code == 400
    assert "Forged" not in alice.page("/")


def test_a_post_without_any_session_is_refused(browser):
    response = browser.client.post("/signin", data={"email": "a@example.com", "password": "x", "csrf_token": ""})

    assert response.status_code == 400


def test_the_token_changes_when_a_user_signs_in(browser):
    browser.sign_up("someone@example.com")
    anonymous_token = browser.csrf_token("/signin")

    browser.sign_in("someone@example.com")

    assert browser.csrf_token("/") != anonymous_token
