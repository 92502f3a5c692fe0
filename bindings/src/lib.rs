//! hark-ffi: the mobile bindings of hark-core (uniffi), for Kotlin, Swift
//! and Python.
//!
//! Thin by design: objects hold an `Arc` of a core type ([`HarkStore`],
//! [`Kiosk`]), records and enums mirror the core's field for field
//! ([`model`]), and every core error is mapped to the one public
//! [`HarkError`] in one place ([`error`]). Nothing here decides anything the
//! core does not; the only additions are the platform hooks: a [`Keystore`]
//! the app implements (Android Keystore, iOS Keychain) and a
//! [`SyncProgress`] callback, with enrolment and sync as async calls that run
//! the core's blocking HTTP on tokio's blocking pool; and [`EventHub`], the
//! `hark hub` event hub started over the app's store (the hark-hub crate).
//!
//! Generate the bindings from the built library (see `bindings/README.md`):
//!
//! ```sh
//! cargo build -p hark-ffi
//! cargo run -p uniffi-bindgen -- generate --library target/debug/libhark_ffi.so \
//!     --language kotlin --out-dir out/kotlin
//! ```

pub mod error;
pub mod hub;
pub mod kiosk;
pub mod model;
pub mod store;

pub use error::{AnswerProblem, HarkError};
pub use hub::{EventHub, HubOptions};
pub use kiosk::Kiosk;
pub use store::{HarkStore, Keystore, SyncProgress};

uniffi::setup_scaffolding!();
