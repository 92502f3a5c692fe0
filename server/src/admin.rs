//! Administration: areas, form versions, enrolment codes, devices, counts
//! and rebuilds.
//! Used by the `hark admin` commands, the first-start demo, and tests.

use std::collections::HashMap;

use hark_core::doc::{DocKind, form_doc, form_from_doc, now_ms};
use hark_core::form::{Bump, Changes, Form, builtin_forms, bump_between, is_shipped};
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

/// Installs in an area every built-in form version it should have, and
/// returns how many were new. This is how the forms of a newer hark reach
/// existing areas (`hark serve` runs it for every area at start):
/// a built-in version is installed when the area has no version of that
/// form, or when the area's newest version of it is an older built-in
/// version exactly as some hark shipped it ([`is_shipped`]). An area whose
/// newest version is its own (imported, edited) keeps it: a newer built-in
/// never supersedes an area's own form. Idempotent.
pub fn install_builtin_forms(storage: &dyn Storage, area: &Area) -> Result<usize> {
    let mut n = 0;
    let mut versions = area_versions(storage, area)?;
    for form in builtin_forms().map_err(hark_core::Error::from)? {
        let newest = versions.remove(&form.id).and_then(|mut v| v.pop());
        // A form the area retired stays retired.
        let wanted = newest
            .as_ref()
            .is_none_or(|v| v.form.version < form.version && is_shipped(&v.form) && !v.retired);
        if wanted && install_form(storage, area, &form)? == Installed::New {
            tracing::info!(area = %area.name, form = %form.form_ref(), "built-in form installed");
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

/// A form version of an area as stored: the form, and whether it is
/// retired.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// The form version.
    pub form: Form,
    /// Retired: not offered for new responses.
    pub retired: bool,
}

/// Every form version of an area, by form id, oldest first: one read of
/// the area's form documents, each parsed once.
pub fn area_versions(
    storage: &dyn Storage,
    area: &Area,
) -> Result<std::collections::BTreeMap<String, Vec<Version>>> {
    let mut out: std::collections::BTreeMap<String, Vec<Version>> = Default::default();
    for (_, bytes) in storage.area_forms(&area.id)? {
        let form = form_from_doc(&bytes)?;
        let retired = hark_core::doc::form_doc_retired(&bytes)?.is_some();
        out.entry(form.id.clone())
            .or_default()
            .push(Version { form, retired });
    }
    for versions in out.values_mut() {
        versions.sort_by(|a, b| a.form.version.cmp(&b.form.version));
    }
    Ok(out)
}

/// Every version of one form of an area, oldest first (none if the area
/// does not have it).
pub fn form_versions(storage: &dyn Storage, area: &Area, form_id: &str) -> Result<Vec<Version>> {
    Ok(area_versions(storage, area)?
        .remove(form_id)
        .unwrap_or_default())
}

/// A form of an area: the given version, or the newest.
pub fn area_form(
    storage: &dyn Storage,
    area: &Area,
    form_id: &str,
    version: Option<&semver::Version>,
) -> Result<Form> {
    let versions = form_versions(storage, area, form_id)?;
    let found = match version {
        Some(v) => versions.into_iter().find(|f| f.form.version == *v),
        None => versions.into_iter().next_back(),
    };
    found.map(|f| f.form).ok_or_else(|| {
        Error::NotFound(match version {
            Some(v) => format!("form {form_id}@{v} in area '{}'", area.name),
            None => format!("form {form_id} in area '{}'", area.name),
        })
    })
}

/// Whether a form version of an area is retired.
pub fn is_retired(storage: &dyn Storage, area: &Area, form: &Form) -> Result<bool> {
    Ok(match storage.load(&form_key(area, form))? {
        Some(doc) => hark_core::doc::form_doc_retired(&doc.bytes)?.is_some(),
        None => false,
    })
}

/// Retires a form in an area: every version of it. Devices stop offering
/// it for new responses at their next sync; responses begun on it are
/// still finished, accepted and counted, and reports keep every version.
/// Publishing a newer version offers the form again. Returns the versions
/// newly retired (none if it was retired already).
pub fn retire(storage: &dyn Storage, area: &Area, form_id: &str) -> Result<Vec<semver::Version>> {
    let mut versions: Vec<Form> = Vec::new();
    for (_, bytes) in storage.area_forms(&area.id)? {
        let form = form_from_doc(&bytes)?;
        if form.id == form_id {
            versions.push(form);
        }
    }
    if versions.is_empty() {
        return Err(Error::NotFound(format!(
            "form {form_id} in area '{}'",
            area.name
        )));
    }
    versions.sort_by(|a, b| a.version.cmp(&b.version));
    let now = now_ms();
    let mut out = Vec::new();
    for f in versions {
        if storage.retire_form(&area.id, &form_key(area, &f), now)? {
            out.push(f.version);
        }
    }
    Ok(out)
}

/// What publishing a form version did, or would do.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Published: devices receive it at their next sync, and new responses
    /// use it.
    Published,
    /// The area has this exact version already; nothing changed.
    AlreadyPublished,
    /// A dry run: everything was checked, nothing installed.
    Checked,
}

/// The result of publishing a form version in an area.
#[derive(Clone, Debug)]
pub struct Publication {
    /// The form version.
    pub form: Form,
    /// The area's newest version before this one, if any.
    pub previous: Option<semver::Version>,
    /// What changed since `previous`.
    pub changes: Option<Changes>,
    /// What the author should know (a version number that says less than
    /// the changes do).
    pub warnings: Vec<String>,
    /// What happened.
    pub outcome: Outcome,
}

/// Publishes a form version in an area, the one path the CLI and the
/// dashboard share. The form is validated; a version is never rewritten
/// (the same id and version with other content is refused, the same
/// content is [`Outcome::AlreadyPublished`]); a new version must be newer
/// than the area's newest, which it supersedes for new responses (drafts
/// keep theirs). The changes since the newest are returned, with a warning
/// when the version number says less than they do: a question whose shape
/// changed is reported apart from the older versions' answers, which is a
/// major change. With `dry_run`, nothing is installed.
pub fn publish(
    storage: &dyn Storage,
    area: &Area,
    form: Form,
    dry_run: bool,
) -> Result<Publication> {
    form.validate().map_err(hark_core::Error::from)?;
    let mut versions = form_versions(storage, area, &form.id)?;
    match versions.iter().find(|v| v.form.version == form.version) {
        Some(existing) if existing.form == form => {
            return Ok(Publication {
                form,
                previous: None,
                changes: None,
                warnings: Vec::new(),
                outcome: Outcome::AlreadyPublished,
            });
        }
        Some(_) => return Err(hark_core::Error::FormVersionClash(form.form_ref()).into()),
        None => {}
    }
    let newest = versions.pop().map(|v| v.form);
    let mut warnings = Vec::new();
    let changes = newest.as_ref().map(|old| Changes::between(old, &form));
    if let (Some(old), Some(changes)) = (&newest, &changes) {
        if form.version < old.version {
            return Err(Error::Invalid(format!(
                "version {} of '{}' is older than the area's newest, {}: a new version must be newer",
                form.version, form.id, old.version
            )));
        }
        let said = bump_between(&old.version, &form.version);
        let needs = changes.needs();
        if said < needs {
            let why = match needs {
                Bump::Major => format!(
                    "question(s) {} changed shape (kind, options or the \"don't know\" and \"don't want to say\" offers), so reports list this version's answers apart from the older ones'",
                    changes.reshaped.join(", ")
                ),
                _ => "questions were added or removed".to_owned(),
            };
            warnings.push(format!(
                "{} -> {} is a {} version, but {why}: that is a {} change",
                old.version,
                form.version,
                bump_name(said),
                bump_name(needs)
            ));
        }
    }
    let outcome = if dry_run {
        Outcome::Checked
    } else {
        match install_form(storage, area, &form)? {
            Installed::New => Outcome::Published,
            Installed::Same => Outcome::AlreadyPublished,
        }
    };
    Ok(Publication {
        previous: newest.map(|f| f.version),
        form,
        changes,
        warnings,
        outcome,
    })
}

fn bump_name(b: Bump) -> &'static str {
    match b {
        Bump::None => "no",
        Bump::Patch => "patch",
        Bump::Minor => "minor",
        Bump::Major => "major",
    }
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
                    let forms = AreaForms::from_stored(storage.area_forms(&doc.area_id)?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Tenancy;
    use crate::storage::sqlite::SqliteStorage;
    use hark_core::form::{Text, builtin_form};

    fn area() -> (SqliteStorage, Area) {
        let s = SqliteStorage::in_memory().expect("sqlite");
        let a = create_area(&s, "hartlepool").expect("area");
        (s, a)
    }

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).expect("version")
    }

    /// The built-in service-satisfaction form exactly as hark 1.0 shipped it.
    fn shipped_1_0_0() -> Form {
        Form::from_json(include_str!("../testdata/service_satisfaction-1.0.0.json")).expect("form")
    }

    /// Each built-in version an older hark shipped, as it shipped, is
    /// recognised: areas holding it get this hark's newer version.
    #[test]
    fn the_versions_older_hark_shipped_are_recognised() {
        for json in [
            include_str!("../testdata/service_satisfaction-1.0.0.json"),
            include_str!("../testdata/diagnosis_experience-1.0.0.json"),
            include_str!("../testdata/local_offer-1.0.0.json"),
            include_str!("../testdata/being_heard_parent-1.0.0.json"),
        ] {
            let old = Form::from_json(json).expect("form");
            assert!(is_shipped(&old), "{} {}", old.id, old.version);
            let current = builtin_form(&old.id).expect("still built in");
            assert!(current.version > old.version, "{}", old.id);
        }
    }

    #[test]
    fn a_newer_builtin_version_reaches_an_area_that_has_the_older_one_as_shipped() {
        let s = SqliteStorage::in_memory().expect("sqlite");
        let a = s.create_area("hartlepool").expect("area");
        let old = shipped_1_0_0();
        assert!(is_shipped(&old), "the fixture is a shipped version");
        install_form(&s, &a, &old).expect("install the old version");
        install_builtin_forms(&s, &a).expect("upgrade");
        let current = builtin_form(&old.id).expect("built in");
        let newest = area_form(&s, &a, &old.id, None).expect("newest");
        assert_eq!(newest, current, "the area has this hark's version");
        // The old version stays: responses to it are still read.
        assert!(area_form(&s, &a, &old.id, Some(&old.version)).is_ok());
        assert_eq!(install_builtin_forms(&s, &a).expect("again"), 0);
    }

    #[test]
    fn a_retired_form_stays_retired_when_a_newer_builtin_version_ships() {
        let s = SqliteStorage::in_memory().expect("sqlite");
        let a = s.create_area("hartlepool").expect("area");
        let old = shipped_1_0_0();
        install_form(&s, &a, &old).expect("install the old version");
        assert_eq!(
            retire(&s, &a, &old.id).expect("retire"),
            std::slice::from_ref(&old.version)
        );
        assert!(retire(&s, &a, &old.id).expect("again").is_empty());
        assert!(is_retired(&s, &a, &old).expect("read"));
        install_builtin_forms(&s, &a).expect("upgrade");
        assert_eq!(area_form(&s, &a, &old.id, None).expect("newest"), old);
        let err = retire(&s, &a, "no-such-form").expect_err("unknown");
        assert!(matches!(err, Error::NotFound(_)), "{err}");
    }

    #[test]
    fn a_newer_builtin_version_never_supersedes_an_areas_own_edit() {
        let s = SqliteStorage::in_memory().expect("sqlite");
        let a = s.create_area("hartlepool").expect("area");
        let mut own = shipped_1_0_0();
        own.version = v("1.0.0-hartlepool.1");
        own.title = Text::new("en", "How was our service? (Hartlepool)");
        install_form(&s, &a, &own).expect("the area's own edit");
        install_builtin_forms(&s, &a).expect("upgrade");
        assert_eq!(area_form(&s, &a, &own.id, None).expect("newest"), own);
        // Forms the area never had arrive all the same.
        assert!(area_form(&s, &a, "local-offer", None).is_ok());
    }

    #[test]
    fn publishing_says_what_changed_and_warns_when_the_version_says_less() {
        let (s, a) = area();
        let old = area_form(&s, &a, "service-satisfaction", None).expect("built in");
        let mut new = old.clone();
        new.version = v(&format!(
            "{}.{}.{}",
            old.version.major,
            old.version.minor + 1,
            0
        ));
        let fft = new
            .questions
            .iter_mut()
            .find(|q| q.id == "fft")
            .expect("fft");
        fft.allow_prefer_not_to_say = !fft.allow_prefer_not_to_say;
        let p = publish(&s, &a, new.clone(), true).expect("dry run");
        assert_eq!(p.outcome, Outcome::Checked);
        assert_eq!(p.previous, Some(old.version.clone()));
        assert_eq!(p.changes.as_ref().expect("changes").reshaped, ["fft"]);
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("minor version") && w.contains("major change")),
            "{:?}",
            p.warnings
        );
        assert_eq!(
            area_form(&s, &a, &old.id, None).expect("newest"),
            old,
            "a dry run installs nothing"
        );
        let p = publish(&s, &a, new.clone(), false).expect("publish");
        assert_eq!(p.outcome, Outcome::Published);
        assert_eq!(area_form(&s, &a, &old.id, None).expect("newest"), new);
        assert_eq!(
            publish(&s, &a, new.clone(), false).expect("again").outcome,
            Outcome::AlreadyPublished
        );
    }

    #[test]
    fn publishing_refuses_a_rewritten_or_older_version() {
        let (s, a) = area();
        let old = area_form(&s, &a, "local-offer", None).expect("built in");
        let mut clash = old.clone();
        clash.title = Text::new("en", "Another title");
        let err = publish(&s, &a, clash, true).expect_err("a version is never rewritten");
        assert!(
            err.to_string()
                .contains("already installed with different content"),
            "{err}"
        );
        let mut newer = old.clone();
        newer.version = v("9.0.0");
        publish(&s, &a, newer, false).expect("publish 9.0.0");
        let mut older = old.clone();
        older.version = v("2.0.0");
        let err = publish(&s, &a, older, false).expect_err("older than the newest");
        assert!(
            err.to_string()
                .contains("is older than the area's newest, 9.0.0"),
            "{err}"
        );
    }
}
