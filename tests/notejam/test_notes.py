"""Notes: create, view, edit, delete, list (all or per pad) and sort; other users' notes are invisible."""

from __future__ import annotations

import pytest


def test_create_note_without_a_pad(alice):
    response = alice.submit("/notes/create", {"name": "Idea", "text": "Write it down.", "pad_id": ""})

    assert response.status_code == 302
    page = alice.page(response.headers["Location"])
    assert "Note created." in page
    assert "<h1>Idea</h1>" in page
    assert "Write it down." in page


def test_create_note_in_a_pad(alice):
    pad_id = alice.create_pad("Work")

    note_id = alice.create_note("Report", pad_id=pad_id)

    assert alice.note_names(f"/pads/{pad_id}") == ["Report"]
    assert f'href="/pads/{pad_id}">Work</a>' in alice.page(f"/notes/{note_id}")


def test_new_note_form_preselects_the_pad_it_was_opened_from(alice):
    pad_id = alice.create_pad("Work")

    assert f'<option value="{pad_id}" selected>Work</option>' in alice.page(f"/notes/create?pad={pad_id}")


def test_create_note_requires_name_and_text(alice, db):
    response = alice.submit("/notes/create", {"name": "", "text": "  ", "pad_id": ""})

    assert response.get_data(as_text=True).count("This field is required.") == 2
    assert db("SELECT * FROM notes") == []


def test_a_note_cannot_go_into_another_users_pad(alice, bob, db):
    bobs_pad = bob.create_pad("Bob's pad")

    response = alice.submit("/notes/create", {"name": "Sneaky", "text": "x", "pad_id": bobs_pad})

    assert "Choose one of your pads." in response.get_data(as_text=True)
    assert db("SELECT * FROM notes") == []


def test_edit_note(alice):
    pad_id = alice.create_pad("Work")
    note_id = alice.create_note("Draft", "first words")

    response = alice.submit(f"/notes/{note_id}/edit", {"name": "Final", "text": "last words", "pad_id": pad_id})

    assert response.headers["Location"].endswith(f"/notes/{note_id}")
    page = alice.page(f"/notes/{note_id}")
    assert "Note saved." in page
    assert "<h1>Final</h1>" in page and "last words" in page
    assert alice.note_names(f"/pads/{pad_id}") == ["Final"]


def test_edit_note_form_shows_the_current_content(alice):
    note_id = alice.create_note("Draft", "first words")

    page = alice.page(f"/notes/{note_id}/edit")

    assert 'value="Draft"' in page
    assert ">first words</textarea>" in page


def test_delete_note_asks_first_then_deletes_it(alice):
    note_id = alice.create_note("Doomed")

    assert "Delete the note “Doomed”?" in alice.page(f"/notes/{note_id}/delete")
    assert alice.get(f"/notes/{note_id}").status_code == 200
    response = alice.submit(f"/notes/{note_id}/delete")

    assert response.status_code == 302
    assert alice.get(f"/notes/{note_id}").status_code == 404
    assert alice.note_names("/") == []


def test_all_notes_lists_every_own_note_and_no_one_elses(alice, bob):
    pad_id = alice.create_pad("Work")
    alice.create_note("In a pad", pad_id=pad_id)
    alice.create_note("Loose")
    bob.create_note("Bob's note")

    assert sorted(alice.note_names("/")) == ["In a pad", "Loose"]
    assert "All notes (2)" in alice.page("/")


def test_notes_sort_by_name_and_by_date(alice):
    note_ids = {name: alice.create_note(name) for name in ("Banana", "apple", "Cherry")}
    alice.submit(f"/notes/{note_ids['Banana']}/edit", {"name": "Banana", "text": "edited last", "pad_id": ""})

    assert alice.note_names("/?order=name") == ["apple", "Banana", "Cherry"]
    assert alice.note_names("/?order=-name") == ["Cherry", "Banana", "apple"]
    assert alice.note_names("/?order=updated_at") == ["apple", "Cherry", "Banana"]
    assert alice.note_names("/?order=-updated_at") == ["Banana", "Cherry", "apple"]
    assert alice.note_names("/") == ["Banana", "Cherry", "apple"]  # newest first unless asked otherwise
    assert alice.note_names("/?order=nonsense") == ["Banana", "Cherry", "apple"]


def test_pad_notes_sort_too(alice):
    pad_id = alice.create_pad("Work")
    for name in ("b", "a", "c"):
        alice.create_note(name, pad_id=pad_id)

    assert alice.note_names(f"/pads/{pad_id}?order=name") == ["a", "b", "c"]
    assert alice.note_names(f"/pads/{pad_id}?order=-updated_at") == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", ""), ("GET", "/edit"), ("POST", "/edit"), ("GET", "/delete"), ("POST", "/delete")]
)
def test_another_users_note_is_not_found(alice, bob, method, path):
    note_id = bob.create_note("Bob's secret", "for Bob only")

    if method == "GET":
        response = alice.get(f"/notes/{note_id}{path}")
    else:
        data = {"name": "Taken over", "text": "mine now", "pad_id": ""}
        response = alice.submit(f"/notes/{note_id}{path}", data, form_page="/")

    assert response.status_code == 404
    assert "for Bob only" not in response.get_data(as_text=True)
    assert "for Bob only" in bob.page(f"/notes/{note_id}")
