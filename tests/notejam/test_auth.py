"""Accounts: sign up, sign in, sign out, change password, and what anonymous visitors may see."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD


def test_sign_up_creates_an_account_that_can_sign_in(browser):
    response = browser.sign_up("new@example.com")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signin")
    assert "Your account is ready" in browser.page("/signin")
    assert browser.sign_in("new@example.com").status_code == 302
    assert "new@example.com" in browser.page("/")


def test_sign_up_refuses_an_email_already_registered_in_any_case(browser):
    browser.sign_up("taken@example.com")

    response = browser.sign_up("Taken@Example.com")

    assert response.status_code == 200
    assert "A user with this email already exists." in response.get_data(as_text=True)


def test_sign_up_refuses_an_invalid_email(browser, db):
    response = browser.sign_up("not-an-email")

    assert "Enter a valid email address." in response.get_data(as_text=True)
    assert db("SELECT * FROM users") == []


def test_sign_up_refuses_a_confirmation_that_differs(browser, db):
    data = {"email": "new@example.com", "password": "one password", "confirm_password": "another"}
    response = browser.submit("/signup", data)

    assert "Passwords do not match." in response.get_data(as_text=True)
    assert db("SELECT * FROM users") == []


def test_sign_up_requires_every_field(browser):
    page = browser.submit("/signup", {"email": "", "password": "", "confirm_password": ""}).get_data(as_text=True)

    assert page.count("This field is required.") == 3


def test_sign_up_keeps_the_typed_email_when_the_form_has_errors(browser):
    data = {"email": "kept@example.com", "password": "x", "confirm_password": "y"}
    assert 'value="kept@example.com"' in browser.submit("/signup", data).get_data(as_text=True)


def test_passwords_are_stored_hashed(alice, db):
    (stored,) = db("SELECT password_hash FROM users WHERE email = 'alice@example.com'")

    assert PASSWORD not in stored["password_hash"]
    assert stored["password_hash"].startswith("pbkdf2:sha256")


def test_sign_in_shows_the_users_notes_page(browser):
    browser.sign_up("someone@example.com")

    response = browser.sign_in("someone@example.com")

    assert response.status_code == 302
    page = browser.page(response.headers["Location"])
    assert "All notes" in page
    assert "someone@example.com" in page


def test_sign_in_with_a_wrong_password_is_refused(browser):
    browser.sign_up("someone@example.com")

    response = browser.sign_in("someone@example.com", "wrong password")

    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_sign_in_as_an_unknown_user_is_refused_with_the_same_message(browser):
    response = browser.sign_in("nobody@example.com")

    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_sign_in_returns_to_the_page_first_asked_for(alice):
    pad_id = alice.create_pad("Work")
    alice.submit("/signout", form_page="/")

    redirect = alice.get(f"/pads/{pad_id}").headers["Location"]
    response = alice.submit(redirect, {"email": "alice@example.com", "password": PASSWORD})

    assert response.headers["Location"].endswith(f"/pads/{pad_id}")


def test_sign_in_does_not_redirect_to_another_site(browser):
    browser.sign_up("someone@example.com")

    data = {"email": "someone@example.com", "password": PASSWORD}
    response = browser.submit("/signin?next=//evil.example/", data, form_page="/signin")

    assert "evil.example" not in response.headers["Location"]


def test_sign_out_ends_the_session(alice):
    response = alice.submit("/signout", form_page="/")

    assert response.headers["Location"].endswith("/signin")
    assert alice.get("/").status_code == 302
    assert "You are signed out." in alice.page("/signin")


def test_sign_out_requires_a_post(alice):
    assert alice.get("/signout").status_code == 405
    assert alice.get("/").status_code == 200


def test_change_password(alice, browser):
    data = {"current_password": PASSWORD, "new_password": "a new secret", "confirm_password": "a new secret"}
    response = alice.submit("/settings", data)

    assert response.status_code == 302
    assert "Your password is changed." in alice.page("/")
    assert browser.sign_in("alice@example.com", PASSWORD).status_code == 200
    assert browser.sign_in("alice@example.com", "a new secret").status_code == 302


def test_change_password_requires_the_current_password(alice, browser):
    data = {"current_password": "a guess", "new_password": "a new secret", "confirm_password": "a new secret"}
    response = alice.submit("/settings", data)

    assert "The current password is wrong." in response.get_data(as_text=True)
    assert browser.sign_in("alice@example.com", PASSWORD).status_code == 302


def test_change_password_requires_a_matching_confirmation(alice):
    data = {"current_password": PASSWORD, "new_password": "a new secret", "confirm_password": "something else"}
    response = alice.submit("/settings", data)

    assert "Passwords do not match." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/", "/settings", "/pads/create", "/pads/1", "/pads/1/edit", "/notes/create", "/notes/1", "/notes/1/delete"]
)
def test_anonymous_visitors_are_sent_to_sign_in(browser, url):
    response = browser.get(url)

    assert response.status_code == 302
    assert "/signin?next=" in response.headers["Location"]


def test_anonymous_form_posts_are_sent_to_sign_in(browser):
    response = browser.submit("/pads/create", {"name": "Sneaky"}, form_page="/signin")

    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]
