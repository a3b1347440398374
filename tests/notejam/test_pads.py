"""Pads: create, rename, delete (with their notes), and other users' pads are invisible."""

from __future__ import annotations

import pytest


def test_create_pad_lists_it_in_the_sidebar(alice):
    response = alice.submit("/pads/create", {"name": "Groceries"})

    assert response.status_code == 302
    page = alice.page(response.headers["Location"])
    assert "Pad created." in page
    assert "<h1>Groceries (0)</h1>" in page
    assert 'class="pad-link"' in alice.page("/") and "Groceries</a>" in alice.page("/")


def test_create_pad_requires_a_name(alice, db):
    response = alice.submit("/pads/create", {"name": "   "})

    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert db("SELECT * FROM pads") == []


def test_rename_pad(alice):
    pad_id = alice.create_pad("Wrok")

    response = alice.submit(f"/pads/{pad_id}/edit", {"name": "Work"})

    assert response.headers["Location"].endswith(f"/pads/{pad_id}")
    page = alice.page(f"/pads/{pad_id}")
    assert "<h1>Work (0)</h1>" in page
    assert "Wrok" not in page


def test_rename_pad_requires_a_name(alice):
    pad_id = alice.create_pad("Work")

    response = alice.submit(f"/pads/{pad_id}/edit", {"name": ""})

    assert "This field is required." in response.get_data(as_text=True)
    assert "<h1>Work (0)</h1>" in alice.page(f"/pads/{pad_id}")


def test_delete_pad_asks_first_then_deletes_it_with_its_notes(alice):
    pad_id = alice.create_pad("Old stuff")
    note_in_pad = alice.create_note("Inside", pad_id=pad_id)
    note_outside = alice.create_note("Outside")

    assert "Delete the pad “Old stuff” and all its notes?" in alice.page(f"/pads/{pad_id}/delete")
    response = alice.submit(f"/pads/{pad_id}/delete")

    assert response.status_code == 302
    assert alice.get(f"/pads/{pad_id}").status_code == 404
    assert alice.get(f"/notes/{note_in_pad}").status_code == 404
    assert alice.get(f"/notes/{note_outside}").status_code == 200
    assert alice.note_names("/") == ["Outside"]
    assert "Old stuff" not in alice.page("/")


def test_pad_page_lists_its_notes_only(alice):
    work = alice.create_pad("Work")
    alice.create_note("Report", pad_id=work)
    alice.create_note("Shopping list")

    assert alice.note_names(f"/pads/{work}") == ["Report"]


def test_sidebar_shows_only_the_users_own_pads(alice, bob):
    alice.create_pad("Alice's pad")
    bob.create_pad("Bob's pad")

    page = alice.page("/")
    assert "Alice&#39;s pad" in page
    assert "Bob&#39;s pad" not in page


@pytest.mark.parametrize(
    ("method", "path"), [("GET", ""), ("GET", "/edit"), ("POST", "/edit"), ("GET", "/delete"), ("POST", "/delete")]
)
def test_another_users_pad_is_not_found(alice, bob, method, path):
    pad_id = bob.create_pad("Bob's pad")

    if method == "GET":
        response = alice.get(f"/pads/{pad_id}{path}")
    else:
        response = alice.submit(f"/pads/{pad_id}{path}", {"name": "Taken over"}, form_page="/")

    assert response.status_code == 404
    assert "<h1>Bob&#39;s pad (0)</h1>" in bob.page(f"/pads/{pad_id}")
