//! The document format every replica agrees on: what kinds of document
//! travel, how a form version is wrapped in a (read-only) Automerge
//! document, how a set of heads is encoded at rest, and the one clock
//! (timestamps in documents and stores are milliseconds since the Unix
//! epoch, UTC).
//!
//! The device store, the sync protocol and the server all import this
//! module, so a form document made on the server loads on a tablet and a
//! set of heads written by one side compares equal byte for byte on the
//! other.

use std::time::{SystemTime, UNIX_EPOCH};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT, ReadDoc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::form::{Form, FormRef};

/// Kinds of document that travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A response (devices -> server, and edits made elsewhere back).
    Response,
    /// A form version (server -> devices only; read-only on devices).
    Form,
}

impl DocKind {
    /// The name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Response => "response",
            Self::Form => "form",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "response" => Some(Self::Response),
            "form" => Some(Self::Form),
            _ => None,
        }
    }
}

/// Milliseconds since the Unix epoch: the one clock of hark.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Schema tag of a form document.
const FORM_SCHEMA: &str = "form/1";

/// A form as a (read-only) Automerge document: its heads and bytes. The
/// same form always gives the same bytes and heads, wherever it is made.
pub fn form_doc(form: &Form) -> Result<(Vec<ChangeHash>, Vec<u8>)> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "hark", FORM_SCHEMA)?;
    doc.put(ROOT, "form_id", form.id.as_str())?;
    doc.put(ROOT, "form_version", form.version.to_string())?;
    doc.put(ROOT, "json", form.to_json())?;
    Ok((doc.get_heads(), doc.save()))
}

/// Reads a form document back, validating the form.
pub fn form_from_doc(bytes: &[u8]) -> Result<Form> {
    let doc = AutoCommit::load(bytes)?;
    match doc.get(ROOT, "json")? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Ok(Form::from_json(s)?),
            _ => Err(Error::Malformed("form document".into())),
        },
        _ => Err(Error::Malformed("form document".into())),
    }
}

/// Marks a form document as retired at `at` (milliseconds): devices that
/// receive it stop offering the form for new responses; responses already
/// begun on it are still finished, synced and counted. The form itself is
/// unchanged (a version is never rewritten); retiring is one more change
/// on its document, so it travels the way the form did. Returns the new
/// heads and bytes; a document retired already is returned as it is.
pub fn retire_form_doc(bytes: &[u8], at: i64) -> Result<(Vec<ChangeHash>, Vec<u8>)> {
    let mut doc = AutoCommit::load(bytes)?;
    if form_doc_retired(bytes)?.is_none() {
        doc.put(ROOT, "retired_at", at)?;
    }
    Ok((doc.get_heads(), doc.save()))
}

/// When a form document was retired, if it was.
pub fn form_doc_retired(bytes: &[u8]) -> Result<Option<i64>> {
    let doc = AutoCommit::load(bytes)?;
    Ok(match doc.get(ROOT, "retired_at")? {
        Some((automerge::Value::Scalar(s), _)) => match s.as_ref() {
            automerge::ScalarValue::Int(at) => Some(*at),
            _ => return Err(Error::Malformed("form document's retired_at".into())),
        },
        None => None,
        Some(_) => return Err(Error::Malformed("form document's retired_at".into())),
    })
}

/// The id a form version's document has on a device.
pub fn form_doc_id(form: &FormRef) -> String {
    format!("form:{}@{}", form.id, form.version)
}

/// A set of heads as stored: the hashes sorted and concatenated, so two
/// copies of one set encode to the same bytes (databases compare them as
/// bytes).
pub fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

/// Reverses [`encode_heads`] (a trailing partial hash is ignored).
pub fn decode_heads(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}

/// Whether two lists of heads name the same set, in any order.
pub fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_encode_the_same_in_any_order() {
        let (x, y) = (ChangeHash([1; 32]), ChangeHash([2; 32]));
        assert_eq!(encode_heads(&[x, y]), encode_heads(&[y, x]));
        assert_eq!(decode_heads(&encode_heads(&[y, x])), vec![x, y]);
        assert!(same_heads(&[x, y], &[y, x]));
        assert!(!same_heads(&[x], &[x, y]));
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in [DocKind::Response, DocKind::Form] {
            assert_eq!(DocKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DocKind::parse("other"), None);
    }
}
