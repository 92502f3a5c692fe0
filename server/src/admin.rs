//! Administration: areas, enrolment codes, devices, counts and rebuilds.
//! Used by the `hark admin` commands, the first-start demo, and tests.

use std::collections::HashMap;

use hark_core::doc::{DocKind, form_doc, now_ms};
use hark_core::form::builtin_forms;
use hark_core::lists::AreaLists;
use hark_core::response::ResponseDoc;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::Area;
use crate::storage::Storage;
use crate::validate::{AreaForms, check};

/// How long an enrolment code stays valid.
pub const CODE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// SHA-256 of a secret (enrolment codes and device tokens are random and
/// long, so a fast hash is the right tool; passwords would need argon2).
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Normalises a typed code: upper case, no spaces or dashes.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source failing is not recoverable.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut b).expect("the operating system's random source is unavailable");
    b
}

/// Creates an area with every built-in form installed.
pub fn create_area(storage: &dyn Storage, name: &str) -> Result<Area> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::Config("an area name is 1 to 100 characters".into()));
    }
    let area = storage.create_area(name)?;
    install_builtin_forms(storage, &area)?;
    Ok(area)
}

/// Installs (idempotently) every built-in form in an area.
pub fn install_builtin_forms(storage: &dyn Storage, area: &Area) -> Result<usize> {
    let mut n = 0;
    for form in builtin_forms().map_err(hark_core::Error::from)? {
        let (heads, bytes) = form_doc(&form)?;
        let id = format!("form:{}:{}@{}", area.id, form.id, form.version);
        if storage.put_form(&area.id, &id, &form.id, &heads, &bytes)? {
            n += 1;
        }
    }
    Ok(n)
}

/// The area with this name, or `NotFound` naming it.
pub fn area_named(storage: &dyn Storage, name: &str) -> Result<Area> {
    storage
        .area_by_name(name)?
        .ok_or_else(|| Error::NotFound(format!("area '{name}'")))
}

/// Makes a one-time enrolment code for an area. Returns it formatted
/// `XXXX-XXXX-XXXX` (60 random bits).
pub fn enrol_code(storage: &dyn Storage, area_name: &str, now: i64) -> Result<String> {
    let area = area_named(storage, area_name)?;
    let raw: [u8; 12] = random_bytes();
    let chars: String = raw
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    let code = format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]);
    storage.add_enrol_code(
        &area.id,
        &hash_secret(&normalise_code(&code)),
        now + CODE_TTL_MS,
    )?;
    Ok(code)
}

/// A QR-ready enrolment string.
pub fn enrol_uri(server: &str, code: &str) -> String {
    format!("hark://enrol?server={server}&code={code}")
}

/// Distinct counted responses (submitted, with consent) in an area.
pub fn count(storage: &dyn Storage, area_name: &str, form: Option<&str>) -> Result<i64> {
    let area = area_named(storage, area_name)?;
    storage.count_submitted(&area.id, form)
}

/// Rebuilds every projection from the stored documents, then recounts the
/// tallies from them. Returns how many responses were projected.
pub fn rebuild(storage: &dyn Storage) -> Result<usize> {
    let mut after = String::new();
    let mut n = 0;
    // Each area's forms and lists, read once.
    let mut areas: HashMap<String, (AreaForms, AreaLists)> = HashMap::new();
    let now = now_ms();
    loop {
        let keys = storage.doc_ids(DocKind::Response, &after, 500)?;
        let Some(last) = keys.last().cloned() else {
            break;
        };
        for key in keys {
            if let Some(doc) = storage.load(&key)? {
                if !areas.contains_key(&doc.area_id) {
                    let forms = AreaForms::from_docs(&storage.area_forms(&doc.area_id)?);
                    let lists = storage.area_lists(&doc.area_id)?;
                    areas.insert(doc.area_id.clone(), (forms, lists));
                }
                let (forms, lists) = &areas[&doc.area_id];
                // The same check as on ingest; a document that fails it
                // (stored before the check existed) is not counted.
                let projection = ResponseDoc::load(&doc.bytes, "server")
                    .ok()
                    .and_then(|r| check(&r, forms, lists, now).ok());
                storage.put_projection(&key, &doc.area_id, projection.as_ref())?;
                n += 1;
            }
        }
        after = last;
    }
    storage.rebuild_tallies()?;
    Ok(n)
}
