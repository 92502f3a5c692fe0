"""Enrolment and sync against a real hark server (started by the Rust
driver, which afterwards checks that the server counts what was sent)."""

import asyncio
import threading

import pytest

import hark_ffi
from hark_ffi import HarkError, HarkStore

from conftest import MemoryKeystore
from test_visit import FORM, fill_feeling_safe

# The driver asserts the server counts exactly this many FORM responses.
SENT = 2


class Progress(hark_ffi.SyncProgress):
    def __init__(self):
        self.calls = []
        self.threads = set()

    def progress(self, done, total):
        self.calls.append((done, total))
        self.threads.add(threading.get_ident())


def test_enrol_capture_sync_with_progress(server, tmp_path):
    keystore = MemoryKeystore()
    store = HarkStore.open(str(tmp_path / "tablet.db"), keystore)
    code = server.code()
    enrolment = asyncio.run(store.enrol(server.url, code, "python tablet"))
    assert enrolment.area == server.area
    assert enrolment.server == server.url
    assert store.enrolment() == enrolment
    # Enrolment fetched the area's forms and its reporting lists.
    assert store.latest_form(FORM) is not None
    lists = store.area_lists()
    assert lists is not None and lists.version >= 1
    assert "school" in [s.id for s in lists.settings]

    context = hark_ffi.ResponseContext(area=enrolment.area, setting="school")
    ids = []
    for home in (5, 1):
        rid = store.start_response(FORM, context, hark_ffi.child_consent())
        fill_feeling_safe(store, rid, home=home)
        store.submit(rid)
        ids.append(rid)
    store.start_response(FORM, context, hark_ffi.child_consent())  # a draft travels too

    progress = Progress()
    report = asyncio.run(store.sync(progress))
    assert report.sent == SENT + 1
    assert report.rejected == []
    assert report.notices == []
    assert progress.calls[0] == (0, SENT + 1)
    assert progress.calls[-1] == (SENT + 1, SENT + 1)
    assert threading.get_ident() not in progress.threads, "progress ran on the caller's thread"

    # The sync brought the area's "you said, we did" note, kept for events
    # without signal.
    assert [(n.theme, n.we_did) for n in store.notes()] == [("diagnosis", "We added two clinics")]

    # Nothing new: one small round trip, nothing sent.
    again = asyncio.run(store.sync(None))
    assert again.sent == 0 and again.round_trips == 1

    # The store and its credentials survive a restart.
    del store
    store = HarkStore.open(str(tmp_path / "tablet.db"), keystore)
    assert store.enrolment() == enrolment
    assert asyncio.run(store.sync(None)).sent == 0

    # A code is good for one device only.
    other = HarkStore.open_in_memory()
    with pytest.raises(HarkError.Refused):
        asyncio.run(other.enrol(server.url, code, "second tablet"))
