// A practitioner's visit through the generated Kotlin bindings, on the JVM.
//
// Compiled with the generated hark_ffi.kt and run by the Rust driver
// (tests/tests/e2e/bindings.rs, run by cargo test) with
// -Djna.library.path=<dir of libhark_ffi.so> and:
//   HARK_TEST_SERVER, HARK_TEST_AREA, HARK_TEST_CODES  a hark server and fresh codes;
//   HARK_TEST_STORE_DIR                                 where the stores go.
// Prints "kotlin visit: ok" at the end; any failure throws (exit status 1).
// The driver then checks the server counts the one visit synced here.

import kotlinx.coroutines.runBlocking
import uniffi.hark_ffi.*
import java.io.File

const val FORM = "feeling-safe-child"

/** Stands in for the Android Keystore: keeps the key in memory. */
class MemoryKeystore(var key: ByteArray? = null) : Keystore {
    var saved = 0

    override fun loadKey(): ByteArray? = key

    override fun saveKey(key: ByteArray) {
        this.key = key
        saved += 1
    }
}

class Progress : SyncProgress {
    val calls = mutableListOf<Pair<Long, Long>>()

    @Synchronized
    override fun progress(done: ULong, total: ULong) {
        calls.add(done.toLong() to total.toLong())
    }
}

fun env(name: String): String = System.getenv(name) ?: error("$name is unset: run through cargo test")

fun ensure(condition: Boolean, what: () -> String) {
    if (!condition) throw AssertionError(what())
}

inline fun <reified E : HarkException> expect(block: () -> Unit): E {
    try {
        block()
    } catch (e: HarkException) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, got success")
}

fun scale(point: Int): Answer = Answer.Scale(point.toUByte())

/** A child's answers; `home` at most 2 raises the urgent flag. */
fun fill(store: HarkStore, id: String, home: Int) {
    store.answer(id, "safe_school", scale(4))
    store.answer(id, "safe_home", scale(home))
    store.answer(id, "safe_travel", Answer.DontKnow)
    store.answer(id, "safe_community", Answer.PreferNotToSay)
    store.answer(id, "safe_online", scale(5))
    store.answer(id, "goes_clubs", Answer.Choice("yes"))
    store.answer(id, "safe_clubs", scale(5))
    store.answer(id, "who_would_tell", Answer.Choices(listOf("school_adult", "parent_carer")))
    store.answer(id, "what_helps", Answer.Text("My dog and my teacher."))
}

fun main() {
    // Just the benchmark (against a release library): HARK_BENCH_STORE=/tmp/bench.db.
    System.getenv("HARK_BENCH_STORE")?.let {
        println("answer through Kotlin: ${benchAnswer(it)}")
        return
    }
    val dir = File(env("HARK_TEST_STORE_DIR"))
    val server = env("HARK_TEST_SERVER")
    val codes = env("HARK_TEST_CODES").split(",")
    val keystore = MemoryKeystore()
    val path = File(dir, "tablet.db").path

    // Open the encrypted store: the first open makes a key and hands it to the keystore.
    var store = HarkStore.open(path, keystore)
    ensure(keystore.saved == 1 && keystore.key?.size == 32) { "the key was not given to the keystore" }

    // Enrol (suspend), which also fetches the area's forms.
    val enrolment = runBlocking { store.enrol(server, codes[0], "kotlin tablet") }
    ensure(enrolment.area == env("HARK_TEST_AREA")) { "enrolled in ${enrolment.area}" }
    val form = store.latestForm(FORM) ?: error("$FORM not fetched")

    // The child-friendly text.
    val home = form.questions.first { it.id == "safe_home" }
    ensure(home.easyRead?.get("en") == "Do you feel safe at home?") { "easy read: ${home.easyRead}" }
    ensure(home.readAloud?.get("en")?.contains("Choose a face") == true) { "read aloud: ${home.readAloud}" }
    val faces = home.kind as QuestionKind.FaceScale
    ensure(faces.labels.map { it.symbol } == listOf("😢", "🙁", "😐", "🙂", "😀")) { "symbols: ${faces.labels}" }

    // The visit: the child says they do not feel safe at home.
    store.setUser("fw-0017")
    val context = ResponseContext(area = enrolment.area, setting = "home", occasion = "visit-7")
    val id = store.startResponse(FORM, context, childConsent())
    ensure("safe_clubs" !in store.askedQuestions(id)) { "safe_clubs is asked before goes_clubs" }
    fill(store, id, home = 1)
    ensure(store.askedQuestions(id) == form.questions.map { it.id }) { "asked: ${store.askedQuestions(id)}" }

    // Bad input is refused with the right error, and changes nothing.
    val outOfRange = expect<HarkException.InvalidAnswer> { store.answer(id, "safe_home", scale(6)) }
    ensure(outOfRange.question == "safe_home" && outOfRange.problem == AnswerProblem.OUT_OF_RANGE) { "$outOfRange" }
    ensure(outOfRange.detail == "answer to 'safe_home' must be between 1 and 5") { outOfRange.detail }
    val wrongKind = expect<HarkException.InvalidAnswer> { store.answer(id, "safe_home", Answer.Text("fine")) }
    ensure(wrongKind.problem == AnswerProblem.WRONG_KIND) { "$wrongKind" }
    expect<HarkException.UnknownForm> { store.startResponse("no-such-form", context, childConsent()) }

    val flags = store.submit(id)
    ensure(flags.map { it.trigger } == listOf("unsafe_home")) { "flags: $flags" }
    ensure(flags[0].level == FlagLevel.URGENT) { "level: ${flags[0].level}" }
    ensure(flags[0].guidance["en"]?.contains("call 999") == true) { "guidance: ${flags[0].guidance}" }

    // Edit after submit: reopen, change, resubmit (the flag stays on record).
    expect<HarkException.WrongStatus> { store.answer(id, "what_helps", Answer.Text("My nan.")) }
    store.reopen(id)
    store.answer(id, "what_helps", Answer.Text("My nan."))
    ensure(store.submit(id).size == 1) { "the answers still raise the flag" }
    val view = store.response(id)
    ensure(view.header.status == Status.SUBMITTED) { "status ${view.header.status}" }
    ensure(view.answers["what_helps"] == Answer.Text("My nan.")) { "answers ${view.answers}" }
    ensure(view.header.flags.map { it.trigger } == listOf("unsafe_home")) { "stored flags ${view.header.flags}" }

    // Sync (suspend) with progress reported from a background thread.
    val progress = Progress()
    val report = runBlocking { store.sync(progress) }
    ensure(report.sent == 1uL && report.rejected.isEmpty()) { "report $report" }
    ensure(progress.calls.first() == (0L to 1L) && progress.calls.last() == (1L to 1L)) { "progress ${progress.calls}" }
    ensure(runBlocking { store.sync(null) }.sent == 0uL) { "a second sync sent again" }

    // The store is encrypted with the keystore's key; another key is refused.
    store.close()
    expect<HarkException.WrongKey> { HarkStore.open(path, MemoryKeystore(ByteArray(32))) }
    store = HarkStore.open(path, keystore)
    ensure(store.list(ResponseFilter(flaggedOnly = true)).map { it.id } == listOf(id)) { "flagged list" }
    store.close()

    // Unreachable server.
    val offline = HarkStore.openInMemory()
    expect<HarkException.Network> { runBlocking { offline.enrol("http://127.0.0.1:9", codes[1], "x") } }

    println("answer through Kotlin: ${benchAnswer(File(dir, "bench.db").path)}")
    println("kotlin visit: ok")
}

/**
 * Median time of one `answer` call on a file store, over 504 calls: the same loop as
 * bindings/tests/python/bench_answer.py and bindings/examples/answer_bench.rs.
 */
fun benchAnswer(path: String): String {
    val store = HarkStore.openWithKey(path, ByteArray(32) { it.toByte() })
    store.installBuiltinForms()
    val context = ResponseContext(area = "bench", setting = "school")
    val times = mutableListOf<Long>()
    repeat(56) {
        val id = store.startResponse(FORM, context, childConsent())
        for ((q, a) in listOf(
            "safe_school" to scale(4), "safe_home" to scale(3), "safe_travel" to Answer.DontKnow,
            "safe_community" to scale(5), "safe_online" to scale(2), "goes_clubs" to Answer.Choice("yes"),
            "safe_clubs" to scale(5), "who_would_tell" to Answer.Choices(listOf("friend")),
            "what_helps" to Answer.Text("Playing football at lunch."),
        )) {
            val t = System.nanoTime()
            store.answer(id, q, a)
            times.add(System.nanoTime() - t)
        }
    }
    store.close()
    times.sort()
    return "median %.3f ms over %d calls".format(times[times.size / 2] / 1e6, times.size)
}
