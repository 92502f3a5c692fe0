"""A practitioner's visit, kiosk sessions, edits after submit and bundles,
through the generated Python bindings."""

import hark_ffi
from hark_ffi import Answer, HarkStore, ResponseFilter, Status

from conftest import MemoryKeystore

FORM = "feeling-safe-child"


def fill_feeling_safe(store, rid, home=4):
    """A child's answers; `home` at most 2 raises the urgent flag."""
    answers = [
        ("safe_school", Answer.SCALE(point=4)),
        ("safe_home", Answer.SCALE(point=home)),
        ("safe_travel", Answer.DONT_KNOW()),
        ("safe_community", Answer.PREFER_NOT_TO_SAY()),
        ("safe_online", Answer.SCALE(point=5)),
        ("goes_clubs", Answer.CHOICE(option="yes")),
        ("safe_clubs", Answer.SCALE(point=5)),
        ("who_would_tell", Answer.CHOICES(options=["school_adult", "parent_carer"])),
        ("what_helps", Answer.TEXT(text="My dog and my teacher.")),
    ]
    for q, a in answers:
        store.answer(rid, q, a)


def test_the_form_carries_its_child_friendly_text(store):
    form = store.latest_form(FORM)
    assert form is not None
    assert form.audience == hark_ffi.Audience.CHILD8_TO11
    assert form.languages == ["en"]
    assert "no right or wrong answers" in form.intro["en"]
    home = next(q for q in form.questions if q.id == "safe_home")
    assert home.required and home.allow_dont_know and home.allow_prefer_not_to_say
    assert home.easy_read["en"] == "Do you feel safe at home?"
    assert "Choose a face" in home.read_aloud["en"]
    assert home.kind.is_face_scale()
    assert home.kind.points == 5
    assert [o.symbol for o in home.kind.labels] == ["😢", "🙁", "😐", "🙂", "😀"]
    assert home.kind.labels[3].easy_read["en"] == "Safe"
    clubs = next(q for q in form.questions if q.id == "safe_clubs")
    assert clubs.conditional
    trigger = next(t for t in form.safeguarding if t.id == "unsafe_home")
    assert trigger.level == hark_ffi.FlagLevel.URGENT
    assert len({f.id for f in store.forms()}) == 10


def test_full_visit_raises_the_flag_with_its_guidance(tmp_path, child_context):
    keystore = MemoryKeystore()
    path = str(tmp_path / "tablet.db")
    store = HarkStore.open(path, keystore)
    assert keystore.saved == 1 and len(keystore.key) == 32
    store.install_builtin_forms()
    store.set_user("fw-0017")

    rid = store.start_response(FORM, child_context, hark_ffi.child_consent())
    fill_feeling_safe(store, rid, home=1)
    flags = store.submit(rid)

    assert [f.trigger for f in flags] == ["unsafe_home"]
    assert flags[0].level == hark_ffi.FlagLevel.URGENT
    assert "call 999" in flags[0].guidance["en"]
    assert "Do not promise to keep it a secret" in flags[0].guidance["en"]

    # Everything is on disk, encrypted: reopen with the key from the keystore.
    del store
    store = HarkStore.open(path, keystore)
    assert keystore.saved == 1
    view = store.response(rid)
    assert view.header.status == Status.SUBMITTED
    assert view.header.form_id == FORM
    assert view.header.context.practitioner == "fw-0017"
    assert view.header.context.setting == "home"
    assert view.header.context.device == store.device_id()
    assert view.header.consent == hark_ffi.child_consent()
    assert view.answers["safe_home"] == Answer.SCALE(point=1)
    assert view.answers["what_helps"] == Answer.TEXT(text="My dog and my teacher.")
    assert [f.trigger for f in view.header.flags] == ["unsafe_home"]
    assert view.header.flags[0].level == "urgent"
    flagged = store.list(ResponseFilter(flagged_only=True))
    assert [h.id for h in flagged] == [rid]
    # The file holds no answer in the clear.
    raw = open(path, "rb").read()
    assert b"My dog and my teacher" not in raw


def test_skip_logic_clears_answers_no_longer_asked(store, child_context):
    rid = store.start_response(FORM, child_context, hark_ffi.child_consent())
    all_ids = [q.id for q in store.latest_form(FORM).questions]
    assert store.asked_questions(rid) == [q for q in all_ids if q != "safe_clubs"]
    store.answer(rid, "goes_clubs", Answer.CHOICE(option="yes"))
    assert store.asked_questions(rid) == all_ids
    store.answer(rid, "safe_clubs", Answer.SCALE(point=3))
    outcome = store.answer(rid, "goes_clubs", Answer.CHOICE(option="no"))
    assert outcome.cleared == ["safe_clubs"]
    assert "safe_clubs" not in store.response(rid).answers
    assert "safe_clubs" not in store.asked_questions(rid)
    assert store.clear_answer(rid, "goes_clubs").cleared == []


def test_edits_after_submit_reopen_change_resubmit(store, child_context):
    rid = store.start_response(FORM, child_context, hark_ffi.child_consent())
    fill_feeling_safe(store, rid, home=2)
    assert [f.trigger for f in store.submit(rid)] == ["unsafe_home"]
    first = store.response(rid).header.submitted_at

    # Submitted: edits are refused until it is reopened.
    try:
        store.answer(rid, "safe_home", Answer.SCALE(point=4))
        raise AssertionError("an edit of a submitted response was accepted")
    except hark_ffi.HarkError.WrongStatus as e:
        assert "reopen" in e.detail

    store.reopen(rid)
    assert store.response(rid).header.status == Status.DRAFT
    store.answer(rid, "safe_home", Answer.SCALE(point=4))
    store.answer(rid, "what_helps", Answer.TEXT(text="Talking to my nan."))
    assert store.submit(rid) == []
    view = store.response(rid)
    assert view.header.status == Status.SUBMITTED
    assert view.header.submitted_at >= first
    assert view.answers["safe_home"] == Answer.SCALE(point=4)
    assert view.answers["what_helps"] == Answer.TEXT(text="Talking to my nan.")
    # One response, edited: still one.
    assert len(store.list(ResponseFilter(form_id=FORM))) == 1


def test_kiosk_session_of_several_families(tmp_path):
    store = HarkStore.open_with_key(str(tmp_path / "kiosk.db"), bytes(range(32)))
    store.install_builtin_forms()
    store.set_user("volunteer-3")  # never recorded on kiosk responses
    kiosk = hark_ffi.Kiosk(
        store, "demo", "sendiass-fair-2026", "town-hall", ["service-satisfaction", "local-offer"]
    )
    assert kiosk.forms() == ["service-satisfaction", "local-offer"]
    form = store.latest_form("service-satisfaction")
    fft = form.questions[0]
    assert fft.kind.is_single_choice()
    best = fft.kind.options[0].id

    kept = []
    # Family 1 answers one form and submits.
    r = kiosk.begin("service-satisfaction", hark_ffi.adult_consent())
    store.answer(r, fft.id, Answer.CHOICE(option=best))
    store.submit(r)
    kept.append(r)
    assert kiosk.reset() == hark_ffi.KioskReset(submitted=1, discarded=0)

    # Family 2 submits one and walks away from the second.
    r = kiosk.begin("service-satisfaction", hark_ffi.adult_consent())
    store.answer(r, fft.id, Answer.CHOICE(option=best))
    store.submit(r)
    kept.append(r)
    left = kiosk.begin("local-offer", hark_ffi.adult_consent())
    assert kiosk.reset() == hark_ffi.KioskReset(submitted=1, discarded=1)

    # Family 3 only looks.
    kiosk.begin("service-satisfaction", hark_ffi.adult_consent())
    assert kiosk.reset() == hark_ffi.KioskReset(submitted=0, discarded=1)
    assert kiosk.reset() == hark_ffi.KioskReset(submitted=0, discarded=0)

    headers = store.list(ResponseFilter(occasion="sendiass-fair-2026"))
    assert sorted(h.id for h in headers) == sorted(kept)
    for h in headers:
        assert h.context.kiosk
        assert h.context.practitioner is None
        assert h.context.setting == "town-hall"
    try:
        store.response(left)
        raise AssertionError("an abandoned kiosk draft survived the reset")
    except hark_ffi.HarkError.UnknownResponse as e:
        assert e.response == left

    try:
        kiosk.begin("feeling-safe-child", hark_ffi.child_consent())
        raise AssertionError("a form the kiosk does not offer was started")
    except hark_ffi.HarkError.Kiosk as e:
        assert "not offered" in e.detail


def test_bundle_carries_responses_without_network(store, tmp_path, child_context):
    ids = []
    for home in (1, 5):
        rid = store.start_response(FORM, child_context, hark_ffi.child_consent())
        fill_feeling_safe(store, rid, home=home)
        store.submit(rid)
        ids.append(rid)
    bundle = store.export_bundle()
    assert isinstance(bundle, bytes) and len(bundle) > 0

    hub = HarkStore.open(str(tmp_path / "hub.db"), MemoryKeystore())
    hub.install_builtin_forms()
    first = hub.import_bundle(bundle)
    again = hub.import_bundle(bundle)
    assert first.applied == 2
    assert again.conflicts == []
    got = hub.list(ResponseFilter(status=Status.SUBMITTED))
    assert sorted(h.id for h in got) == sorted(ids)
    assert hub.response(ids[0]).answers["safe_home"] == Answer.SCALE(point=1)
    assert [h.id for h in hub.list(ResponseFilter(flagged_only=True))] == [ids[0]]
