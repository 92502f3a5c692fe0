"""The event hub started from the bindings (an app on the organiser's
tablet): phones join with the code and see the forms, the organiser's page
shows the code, and stopping closes the port."""

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

import pytest

import hark_ffi
from hark_ffi import EventHub, HarkError, HubOptions


def options(code=None, forms=()):
    return HubOptions(event="Forum coffee morning", setting=None, forms=list(forms),
                      code=code, port=0, url=None)


def local(hub, path):
    """The hub's address on this machine (its own URL names the network's)."""
    port = urllib.parse.urlparse(hub.organiser_url()).port
    return f"http://127.0.0.1:{port}{path}"


def test_phones_join_with_the_code_and_see_the_forms(store):
    hub = EventHub.start(store, options(code="coffee", forms=["service-satisfaction"]))
    try:
        assert hub.code() == "COFFEE", "codes are read in capitals"
        assert hub.url().startswith("http://") and hub.url().endswith("/")
        organiser = urllib.request.urlopen(hub.organiser_url(), timeout=10).read().decode()
        assert "COFFEE" in organiser, "the organiser's page shows the code"
        assert "<svg" in organiser, "and the QR code of the address"

        phone = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with pytest.raises(urllib.error.HTTPError) as wrong:
            phone.open(local(hub, "/join"), data=b"code=NOPE", timeout=10)
        assert wrong.value.code == 403, "a wrong code keeps a passer-by out"
        forms = phone.open(local(hub, "/join"), data=b"code=coffee", timeout=10).read().decode()
        assert "service-satisfaction" in forms, "the offered form is listed"
        assert "feeling-safe-child" not in forms, "and only the offered forms"
    finally:
        hub.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(hub.organiser_url(), timeout=5)
    hub.stop()  # twice does nothing


def test_a_short_code_or_an_empty_store_is_refused_by_name(tmp_path, store):
    with pytest.raises(HarkError.Hub) as short:
        EventHub.start(store, options(code="ab"))
    assert "4 characters" in short.value.detail
    from conftest import MemoryKeystore
    empty = hark_ffi.HarkStore.open(str(tmp_path / "empty.db"), MemoryKeystore())
    with pytest.raises(HarkError.Hub) as none:
        EventHub.start(empty, options())
    assert "no forms" in none.value.detail
