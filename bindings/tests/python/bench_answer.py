"""Median time of one `answer` call through the Python bindings, on an
encrypted file store (WAL, synchronous=FULL), over 504 calls: the same loop
as benchAnswer() in bindings/tests/kotlin/VisitTest.kt and
bindings/examples/answer_bench.rs (the same call made from Rust).

    cargo build --release -p hark-ffi
    cargo run -p uniffi-bindgen -- generate --no-format \
        --library target/release/libhark_ffi.so --language python --out-dir /tmp/py
    cp target/release/libhark_ffi.so /tmp/py/
    HARK_FFI_PYTHON_DIR=/tmp/py target/tools/venv/bin/python bindings/tests/python/bench_answer.py
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.environ["HARK_FFI_PYTHON_DIR"])

import hark_ffi  # noqa: E402
from hark_ffi import Answer  # noqa: E402

ANSWERS = [
    ("safe_school", Answer.SCALE(point=4)),
    ("safe_home", Answer.SCALE(point=3)),
    ("safe_travel", Answer.DONT_KNOW()),
    ("safe_community", Answer.SCALE(point=5)),
    ("safe_online", Answer.SCALE(point=2)),
    ("goes_clubs", Answer.CHOICE(option="yes")),
    ("safe_clubs", Answer.SCALE(point=5)),
    ("who_would_tell", Answer.CHOICES(options=["friend"])),
    ("what_helps", Answer.TEXT(text="Playing football at lunch.")),
]


def main():
    with tempfile.TemporaryDirectory() as d:
        store = hark_ffi.HarkStore.open_with_key(os.path.join(d, "bench.db"), bytes(range(32)))
        store.install_builtin_forms()
        context = hark_ffi.ResponseContext(area="bench", setting="school")
        times = []
        for _ in range(56):
            rid = store.start_response("feeling-safe-child", context, hark_ffi.child_consent())
            for q, a in ANSWERS:
                t = time.perf_counter()
                store.answer(rid, q, a)
                times.append(time.perf_counter() - t)
        times.sort()
        print(f"answer through Python: median {times[len(times) // 2] * 1e3:.3f} ms over {len(times)} calls")


if __name__ == "__main__":
    main()
