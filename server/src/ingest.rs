//! Merging what devices send into the server's documents, and the
//! projections derived from them. Pure functions over bytes: the storage
//! layer calls [`merge_upload`] inside its transaction.

use automerge::{AutoCommit, ChangeHash};
use hark_core::sync::{DocData, DocKind};
use hark_core::{Answer, ResponseDoc};

use crate::error::Result;
use crate::storage::{AnswerRow, DocBytes, DocWrite, Merged, Projection, StoredDoc};

/// Change chunks kept per document before compaction into a snapshot.
pub const COMPACT_AFTER: i64 = 32;

/// Changes the device lacks after a merge: what to send back at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extra {
    /// Heads the device is known to have.
    pub base: Vec<ChangeHash>,
    /// Changes after them.
    pub bytes: Vec<u8>,
}

fn hashes(base: &[serde_bytes::ByteBuf]) -> Option<Vec<ChangeHash>> {
    base.iter()
        .map(|h| ChangeHash::try_from(h.as_slice()).ok())
        .collect()
}

fn same(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// Merges one uploaded document into the stored copy (if any).
///
/// `area_name` is the uploading device's area: a response must say it was
/// captured there, and an existing document must belong to it.
pub fn merge_upload(
    area_id: &str,
    area_name: &str,
    upload: &DocData,
    stored: Option<StoredDoc>,
) -> Result<(Merged, Option<Extra>)> {
    if upload.kind != DocKind::Response {
        return Ok((Merged::Rejected("devices cannot change forms".into()), None));
    }
    let Some(base) = hashes(&upload.base) else {
        return Ok((Merged::Rejected("malformed change hash".into()), None));
    };
    let reject = |why: &str| Ok((Merged::Rejected(why.to_owned()), None));
    match stored {
        Some(s) if s.area_id != area_id => reject("unknown document"),
        Some(s) => {
            let mut doc = match AutoCommit::load(&s.bytes) {
                Ok(d) => d,
                Err(_) => return reject("stored copy unreadable"),
            };
            let before = doc.get_heads();
            if !base.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
                return Ok((Merged::NeedWhole, None));
            }
            let incoming_heads = if base.is_empty() {
                // A whole document: it must be the same response.
                match ResponseDoc::load(&upload.bytes, "server") {
                    Ok(mut incoming) if incoming.id() == upload.id => Some(incoming.heads()),
                    Ok(_) => return reject("document id does not match"),
                    Err(_) => return reject("corrupt document data"),
                }
            } else {
                None
            };
            if doc.load_incremental(&upload.bytes).is_err() {
                return reject("corrupt document data");
            }
            if !doc.get_missing_deps(&[]).is_empty() {
                return Ok((Merged::NeedWhole, None));
            }
            let mut response = match ResponseDoc::from_automerge(doc) {
                Ok(r) if r.id() == upload.id => r,
                _ => return reject("not a hark response"),
            };
            let after = response.heads();
            // What the device lacks: the server held changes beyond its base.
            let device_has = incoming_heads.clone().unwrap_or_else(|| base.clone());
            let extra = if !base.is_empty() && same(&before, &base) || same(&after, &device_has) {
                None
            } else {
                Some(Extra {
                    bytes: response.doc_mut().save_after(&device_has),
                    base: device_has,
                })
            };
            let bytes = if same(&after, &before) {
                DocBytes::Unchanged
            } else if s.n_changes + 1 >= COMPACT_AFTER {
                DocBytes::Snapshot(response.save())
            } else {
                DocBytes::Append(response.doc_mut().save_after(&before))
            };
            Ok((written(area_id, &response, after, bytes)?, extra))
        }
        None => {
            if !base.is_empty() {
                return Ok((Merged::NeedWhole, None));
            }
            let mut response = match ResponseDoc::load(&upload.bytes, "server") {
                Ok(r) => r,
                Err(_) => return reject("corrupt document data"),
            };
            if response.id() != upload.id {
                return reject("document id does not match");
            }
            if response.context().area != area_name {
                return reject("response was captured for another area");
            }
            let heads = response.heads();
            let bytes = DocBytes::Snapshot(response.save());
            Ok((written(area_id, &response, heads, bytes)?, None))
        }
    }
}

/// The write for a merged response, with its projection.
fn written(
    area_id: &str,
    response: &ResponseDoc,
    heads: Vec<ChangeHash>,
    bytes: DocBytes,
) -> Result<Merged> {
    Ok(Merged::Write(Box::new(DocWrite {
        id: response.id().to_owned(),
        area_id: area_id.to_owned(),
        kind: DocKind::Response,
        form_id: response.form_ref().id.clone(),
        heads,
        bytes,
        projection: Some(project(response)?),
    })))
}

/// The relational projection of a response.
pub fn project(response: &ResponseDoc) -> Result<Projection> {
    let header = response.header()?;
    let answers = response
        .answers()?
        .into_iter()
        .map(|(question, answer)| answer_row(question, answer))
        .collect();
    let c = header.context;
    Ok(Projection {
        form_id: header.form.id,
        form_version: header.form.version.to_string(),
        status: header.status.as_str().to_owned(),
        setting: c.setting,
        age_phase: c.age_phase,
        need: c.need,
        pathway: c.pathway,
        kiosk: c.kiosk,
        captured_at: c.captured_at,
        submitted_at: header.submitted_at,
        month: month_of(c.captured_at),
        flags: i64::try_from(header.flags.len()).unwrap_or(i64::MAX),
        answers,
    })
}

/// One answer as a projected row.
pub fn answer_row(question: String, answer: Answer) -> AnswerRow {
    let kind = answer.kind().to_owned();
    let (value_text, value_num) = match answer {
        Answer::Scale(n) => (None, Some(i64::from(n))),
        Answer::Number(n) => (None, Some(n)),
        Answer::Choice(s) | Answer::Text(s) | Answer::Date(s) => (Some(s), None),
        Answer::Choices(v) => (Some(v.join(",")), None),
        Answer::DontKnow | Answer::PreferNotToSay => (None, None),
    };
    AnswerRow {
        question,
        kind,
        value_text,
        value_num,
    }
}

/// `YYYY-MM` of a time in ms since the epoch (UTC).
pub fn month_of(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| format!("{:04}-{:02}", t.year(), u8::from(t.month())))
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_700_000_000_000), "2023-11");
    }
}
