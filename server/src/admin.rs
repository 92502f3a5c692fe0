//! Administration: areas, form versions, enrolment codes, devices, counts
//! and rebuilds.
//! Used by the `hark admin` commands, the first-start demo, and tests.

use std::collections::HashMap;

use hark_core::doc::{DocKind, form_doc, form_from_doc, now_ms};
use hark_core::form::{Form, builtin_forms};
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
        if install_form(storage, area, &form)? == Installed::New {
            n += 1;
        }
    }
    Ok(n)
}

/// What installing a form version did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Installed {
    /// The version is new to the area.
    New,
    /// The area has this exact version already; nothing changed.
    Same,
}

/// The key a form version is stored under in an area.
fn form_key(area: &Area, form: &Form) -> String {
    format!("form:{}:{}@{}", area.id, form.id, form.version)
}

/// Installs one form version in an area; devices receive it at their next
/// sync. The form is validated first. A version is never rewritten: the
/// same id and version with different content is refused
/// ([`hark_core::Error::FormVersionClash`]); the same content again is
/// [`Installed::Same`].
pub fn install_form(storage: &dyn Storage, area: &Area, form: &Form) -> Result<Installed> {
    form.validate().map_err(hark_core::Error::from)?;
    let key = form_key(area, form);
    let same = |stored: &[u8]| -> Result<Installed> {
        if &form_from_doc(stored)? == form {
            Ok(Installed::Same)
        } else {
            Err(hark_core::Error::FormVersionClash(form.form_ref()).into())
        }
    };
    if let Some(stored) = storage.load(&key)? {
        return same(&stored.bytes);
    }
    let (heads, bytes) = form_doc(form)?;
    if storage.put_form(&area.id, &key, &form.id, &heads, &bytes)? {
        return Ok(Installed::New);
    }
    // Installed by someone else between the two calls.
    match storage.load(&key)? {
        Some(stored) => same(&stored.bytes),
        None => Err(Error::NotFound(format!("form {}", form.form_ref()))),
    }
}

/// A form of an area: the given version, or the newest.
pub fn area_form(
    storage: &dyn Storage,
    area: &Area,
    form_id: &str,
    version: Option<&semver::Version>,
) -> Result<Form> {
    let mut found: Option<Form> = None;
    for bytes in storage.area_forms(&area.id)? {
        let form = form_from_doc(&bytes)?;
        if form.id != form_id || version.is_some_and(|v| *v != form.version) {
            continue;
        }
        if found.as_ref().is_none_or(|f| f.version < form.version) {
            found = Some(form);
        }
    }
    found.ok_or_else(|| {
        Error::NotFound(match version {
            Some(v) => format!("form {form_id}@{v} in area '{}'", area.name),
            None => format!("form {form_id} in area '{}'", area.name),
        })
    })
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
