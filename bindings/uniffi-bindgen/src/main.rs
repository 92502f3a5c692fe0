//! `uniffi-bindgen`: generates Kotlin, Swift and Python from the built
//! `libhark_ffi` (library mode). Its own crate, so the `cli` feature (clap,
//! the generators) never reaches the mobile library's build.
//!
//! ```sh
//! cargo build -p hark-ffi
//! cargo run -p uniffi-bindgen -- generate --library target/debug/libhark_ffi.so \
//!     --language kotlin --out-dir out/kotlin
//! ```

fn main() {
    uniffi::uniffi_bindgen_main();
}
