"""Every kind of bad input gives the right HarkError, with a clear message
and no personal data in it."""

import asyncio
import socket

import pytest

import hark_ffi
from hark_ffi import Answer, AnswerProblem, HarkError, HarkStore

from conftest import MemoryKeystore

FORM = "feeling-safe-child"


@pytest.fixture
def draft(store, child_context):
    return store.start_response(FORM, child_context, hark_ffi.child_consent())


def answer_problem(store, rid, question, answer):
    with pytest.raises(HarkError.InvalidAnswer) as e:
        store.answer(rid, question, answer)
    assert e.value.question == question
    return e.value


def test_wrong_store_key_changes_nothing(tmp_path):
    path = str(tmp_path / "hark.db")
    right = MemoryKeystore()
    store = HarkStore.open(path, right)
    store.install_builtin_forms()
    del store  # closed: the WAL is checkpointed into the file
    before = open(path, "rb").read()
    with pytest.raises(HarkError.WrongKey) as e:
        HarkStore.open(path, MemoryKeystore(key=bytes(32)))
    assert e.value.detail == "the key does not open this store"
    with pytest.raises(HarkError.WrongKey):
        HarkStore.open_with_key(path, bytes([9] * 32))
    assert open(path, "rb").read() == before
    assert HarkStore.open(path, right).latest_form(FORM) is not None


def test_keystore_problems(tmp_path):
    path = str(tmp_path / "hark.db")
    with pytest.raises(HarkError.Keystore) as e:
        HarkStore.open(path, MemoryKeystore(key=bytes(16)))
    assert "32 bytes" in e.value.detail
    with pytest.raises(HarkError.Keystore):
        HarkStore.open_with_key(path, b"short")

    class Locked(hark_ffi.Keystore):
        def load_key(self):
            raise HarkError.Keystore("the device is locked")

        def save_key(self, key):
            raise AssertionError("not reached")

    with pytest.raises(HarkError.Keystore) as e:
        HarkStore.open(path, Locked())
    assert e.value.detail == "the device is locked"

    class Broken(hark_ffi.Keystore):
        def load_key(self):
            return None

        def save_key(self, key):
            raise RuntimeError("disk full")

    with pytest.raises(HarkError.Internal):
        HarkStore.open(path, Broken())


def test_unknown_form_response_and_question(store, draft, child_context):
    with pytest.raises(HarkError.UnknownForm) as e:
        store.start_response("no-such-form", child_context, hark_ffi.child_consent())
    assert e.value.form == "no-such-form"
    assert "not installed" in e.value.detail
    with pytest.raises(HarkError.UnknownResponse) as e:
        store.answer("not-a-response", "safe_home", Answer.SCALE(point=3))
    assert e.value.response == "not-a-response"
    err = answer_problem(store, draft, "favourite_colour", Answer.SCALE(point=3))
    assert err.problem == AnswerProblem.UNKNOWN_QUESTION
    assert err.detail == "question 'favourite_colour' is not in this form"


def test_answers_of_the_wrong_kind_or_out_of_range(store, draft):
    cases = [
        ("safe_home", Answer.TEXT(text="fine"), AnswerProblem.WRONG_KIND),
        ("safe_home", Answer.NUMBER(value=3), AnswerProblem.WRONG_KIND),
        ("safe_home", Answer.SCALE(point=6), AnswerProblem.OUT_OF_RANGE),
        ("safe_home", Answer.SCALE(point=0), AnswerProblem.OUT_OF_RANGE),
        ("goes_clubs", Answer.CHOICE(option="maybe"), AnswerProblem.UNKNOWN_OPTION),
        ("who_would_tell", Answer.CHOICES(options=["dragon"]), AnswerProblem.UNKNOWN_OPTION),
        ("who_would_tell", Answer.CHOICES(options=[]), AnswerProblem.SELECTION_COUNT),
        ("what_helps", Answer.TEXT(text="   "), AnswerProblem.EMPTY),
        ("what_helps", Answer.TEXT(text="x" * 2001), AnswerProblem.TOO_LONG),
        ("what_helps", Answer.DONT_KNOW(), AnswerProblem.NOT_OFFERED),
        ("safe_clubs", Answer.SCALE(point=3), AnswerProblem.NOT_ASKED),
    ]
    for question, answer, problem in cases:
        err = answer_problem(store, draft, question, answer)
        assert err.problem == problem, (question, answer, err)
    out_of_range = answer_problem(store, draft, "safe_home", Answer.SCALE(point=9))
    assert out_of_range.detail == "answer to 'safe_home' must be between 1 and 5"
    # A refused answer changed nothing.
    assert store.response(draft).answers == {}


WAITING = """{
  "id": "waiting-times", "version": "1.0.0",
  "title": {"en": "Waiting for an assessment"},
  "audience": "parent_carer", "theme": "diagnosis", "languages": ["en"],
  "questions": [
    {"id": "weeks", "type": "decimal", "min": "0", "max": "104", "required": true,
     "label": {"en": "How many weeks did you wait?"},
     "constraint_message": {"en": "Please give the weeks from 0 to 104, such as 6.5."}}
  ]
}"""


def test_a_decimal_is_kept_exactly_and_refused_with_the_authors_message(store, child_context):
    assert store.install_form_json(WAITING)
    question = store.latest_form("waiting-times").questions[0]
    assert question.kind == hark_ffi.QuestionKind.DECIMAL(min="0", max="104")
    rid = store.start_response("waiting-times", child_context, hark_ffi.adult_consent())
    for bad in ["6,5", "1e2", "104.01", "-1", "0.1e1"]:
        err = answer_problem(store, rid, "weeks", Answer.DECIMAL(value=bad))
        assert err.problem == AnswerProblem.BAD_DECIMAL, (bad, err)
        assert err.author_message == {"en": "Please give the weeks from 0 to 104, such as 6.5."}
        assert bad not in err.detail
    store.answer(rid, "weeks", Answer.DECIMAL(value="6.50"))
    assert store.response(rid).answers["weeks"] == Answer.DECIMAL(value="6.5")
    # 0.1 + 0.2 is kept as written, never as a binary fraction.
    store.answer(rid, "weeks", Answer.DECIMAL(value="0.30000000000000004"))
    assert store.response(rid).answers["weeks"] == Answer.DECIMAL(value="0.30000000000000004")


def test_messages_never_carry_the_answer(store, draft):
    secret = "my name is Ada Lovelace and " + "x" * 2000
    err = answer_problem(store, draft, "what_helps", Answer.TEXT(text=secret))
    assert "Ada" not in err.detail and "Ada" not in str(err)
    err = answer_problem(store, draft, "goes_clubs", Answer.CHOICE(option="Ada Lovelace"))
    assert err.problem == AnswerProblem.UNKNOWN_OPTION


def test_submit_with_a_required_answer_missing(store, draft):
    store.answer(draft, "safe_school", Answer.SCALE(point=4))
    with pytest.raises(HarkError.CannotSubmit) as e:
        store.submit(draft)
    assert e.value.missing == ["safe_home", "safe_travel", "safe_community", "safe_online"]
    assert not e.value.consent_missing
    assert "question 'safe_home' is required" in e.value.detail
    assert store.response(draft).header.status == hark_ffi.Status.DRAFT


def test_submit_without_assent_then_with_it(store, child_context):
    no_assent = hark_ffi.Consent(
        consent=hark_ffi.Permission.GIVEN, assent=hark_ffi.Permission.NOT_RECORDED
    )
    rid = store.start_response(FORM, child_context, no_assent)
    for q in ["safe_school", "safe_home", "safe_travel", "safe_community", "safe_online"]:
        store.answer(rid, q, Answer.SCALE(point=4))
    with pytest.raises(HarkError.CannotSubmit) as e:
        store.submit(rid)
    assert e.value.consent_missing and e.value.missing == []
    assert "consent or assent" in e.value.detail
    store.set_consent(rid, hark_ffi.child_consent())
    assert store.submit(rid) == []


def test_reopen_of_a_draft(store, draft):
    with pytest.raises(HarkError.WrongStatus) as e:
        store.reopen(draft)
    assert "not submitted" in e.value.detail


def test_corrupt_bundles_are_refused_whole(store, draft, tmp_path):
    for junk in [b"", b"not a bundle", bytes(range(256))]:
        with pytest.raises(HarkError.Corrupt) as e:
            store.import_bundle(junk)
        assert "corrupt or truncated" in e.value.detail
    good = store.export_bundle()
    hub = HarkStore.open_in_memory()
    with pytest.raises(HarkError.Corrupt):
        hub.import_bundle(good[: len(good) // 2])
    assert hub.list(hark_ffi.ResponseFilter()) == []


def test_bad_form_json(store):
    with pytest.raises(HarkError.InvalidForm) as e:
        store.install_form_json('{"id": "x"}')
    assert "form" in e.value.detail
    assert store.install_builtin_forms() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_and_not_enrolled():
    store = HarkStore.open_in_memory()
    with pytest.raises(HarkError.Network) as e:
        asyncio.run(store.enrol(f"http://127.0.0.1:{free_port()}", "AAAA-BBBB-CCCC", "tablet"))
    assert "could not reach the server" in e.value.detail
    assert store.enrolment() is None
    with pytest.raises(HarkError.Refused) as e:
        asyncio.run(store.sync(None))
    assert "not enrolled" in e.value.detail


def test_bad_enrolment_code(server):
    store = HarkStore.open_in_memory()
    with pytest.raises(HarkError.Refused) as e:
        asyncio.run(store.enrol(server.url, "AAAA-BBBB-CCCC", "tablet"))
    assert e.value.detail.endswith("the enrolment code is unknown, used or expired")
    assert store.enrolment() is None
