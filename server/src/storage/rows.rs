//! Row mapping both backends share: the column lists of each record and
//! one function per record from a row, over a small [`Row`] trait that
//! each driver's row implements. A backend's query names the columns with
//! these lists, so the order is written once.

use hark_core::doc::DocKind;
use hark_core::response::Status;

use crate::error::{Error, Result};
use crate::export::{ExportRecord, unpack_answers};
use crate::model::{Area, AuditEntry, Device, Note, Role, SurveyLink, User};
use crate::projection::{AnswerRow, Projection};

/// A row of a result, as the record functions below read it.
pub(super) trait Row {
    /// A text column.
    fn text(&self, i: usize) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// A boolean column.
    fn flag(&self, i: usize) -> Result<bool>;
    /// A binary column.
    fn blob(&self, i: usize) -> Result<Vec<u8>>;
}

impl Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.get(i)?)
    }
    fn blob(&self, i: usize) -> Result<Vec<u8>> {
        Ok(self.get(i)?)
    }
}

impl Row for postgres::Row {
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.try_get(i)?)
    }
    fn blob(&self, i: usize) -> Result<Vec<u8>> {
        Ok(self.try_get(i)?)
    }
}

/// Columns of [`area`].
pub(super) const AREA: &str = "id, name";

pub(super) fn area(r: &impl Row) -> Result<Area> {
    Ok(Area {
        id: r.text(0)?,
        name: r.text(1)?,
    })
}

/// Columns of [`device`].
pub(super) const DEVICE: &str = "id, area_id, token_hash, label, revoked_at IS NOT NULL";

pub(super) fn device(r: &impl Row) -> Result<Device> {
    Ok(Device {
        id: r.text(0)?,
        area_id: r.text(1)?,
        token_hash: r.blob(2)?,
        label: r.text(3)?,
        revoked: r.flag(4)?,
    })
}

/// Columns of [`user`] (`{p}` is a table prefix such as `u.`).
pub(super) fn user_columns(p: &str) -> String {
    [
        "id",
        "area_id",
        "username",
        "password_hash",
        "role",
        "free_text",
    ]
    .map(|c| format!("{p}{c}"))
    .join(", ")
}

pub(super) fn user(r: &impl Row) -> Result<User> {
    Ok(User {
        id: r.text(0)?,
        area_id: r.text(1)?,
        username: r.text(2)?,
        password_hash: r.text(3)?,
        role: Role::parse(&r.text(4)?).unwrap_or(Role::Leader),
        free_text: r.flag(5)?,
    })
}

/// Columns of [`audit_entry`].
pub(super) const AUDIT: &str = "seq, at, area_id, actor, action, detail";

pub(super) fn audit_entry(r: &impl Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.int(0)?,
        at: r.int(1)?,
        area_id: r.text(2)?,
        actor: r.text(3)?,
        action: r.text(4)?,
        detail: r.text(5)?,
    })
}

/// Columns of [`note`].
pub(super) const NOTE: &str = "id, area_id, theme, you_said, we_did, author, updated_at";

pub(super) fn note(r: &impl Row) -> Result<Note> {
    Ok(Note {
        id: r.text(0)?,
        area_id: r.text(1)?,
        theme: r.text(2)?,
        you_said: r.text(3)?,
        we_did: r.text(4)?,
        author: r.text(5)?,
        updated_at: r.int(6)?,
    })
}

pub(super) const LINK: &str =
    "id, area_id, form_id, single_use, closes_at, cap, used, created_at, created_by, revoked";

pub(super) fn link(r: &impl Row) -> Result<SurveyLink> {
    Ok(SurveyLink {
        id: r.text(0)?,
        area_id: r.text(1)?,
        form_id: r.text(2)?,
        single_use: r.flag(3)?,
        closes_at: r.opt_int(4)?,
        cap: r.opt_int(5)?,
        used: r.int(6)?,
        created_at: r.int(7)?,
        created_by: r.text(8)?,
        revoked: r.flag(9)?,
    })
}

/// Columns of [`projection`] (the tallied part of a response row).
pub(super) const PROJECTION: &str =
    "form_id, form_version, status, setting, age_phase, need, pathway, month, counted, counted_in";

pub(super) fn projection(r: &impl Row) -> Result<Projection> {
    let status = r.text(2)?;
    Ok(Projection {
        form_id: r.text(0)?,
        form_version: r.text(1)?,
        status: Status::parse(&status)
            .ok_or_else(|| Error::Invalid(format!("stored status '{status}' is unknown")))?,
        setting: r.opt_text(3)?,
        age_phase: r.opt_text(4)?,
        need: r.opt_text(5)?,
        pathway: r.opt_text(6)?,
        month: r.text(7)?,
        counted: r.flag(8)?,
        counted_in: r.opt_text(9)?,
        ..Projection::default()
    })
}

/// Columns of [`answer_row`].
pub(super) const ANSWER: &str = "question, kind, value_text, value_num";

pub(super) fn answer_row(r: &impl Row) -> Result<AnswerRow> {
    Ok(AnswerRow {
        question: r.text(0)?,
        kind: r.text(1)?,
        value_text: r.opt_text(2)?,
        value_num: r.opt_int(3)?,
    })
}

/// Columns of [`export_record`].
pub(super) const EXPORT: &str =
    "form_id, form_version, month, setting, age_phase, need, pathway, kiosk, packed";

pub(super) fn export_record(r: &impl Row, with_text: bool) -> Result<ExportRecord> {
    Ok(ExportRecord {
        form_id: r.text(0)?,
        form_version: r.text(1)?,
        month: r.text(2)?,
        setting: r.opt_text(3)?,
        age_phase: r.opt_text(4)?,
        need: r.opt_text(5)?,
        pathway: r.opt_text(6)?,
        kiosk: r.flag(7)?,
        answers: unpack_answers(&r.text(8)?, with_text)?,
    })
}

/// A stored document kind.
pub(super) fn kind(name: &str) -> Result<DocKind> {
    DocKind::parse(name).ok_or_else(|| Error::Invalid(format!("stored kind '{name}' is unknown")))
}

/// Columns of a free-text read: setting, age phase, need, pathway,
/// version, the words (`NULL` once erased).
pub(super) fn published_quote(r: &impl Row) -> Result<crate::model::PublishedQuote> {
    Ok(crate::model::PublishedQuote {
        dims: [r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?],
        text: r.opt_text(5)?,
    })
}

/// Columns of a tally read: form, month, the query's dimensions, value, n.
pub(super) fn tally_row(r: &impl Row, dims: usize) -> Result<crate::tally::TallyRow> {
    Ok(crate::tally::TallyRow {
        form_id: r.text(0)?,
        month: r.text(1)?,
        dims: (0..dims).map(|i| r.text(2 + i)).collect::<Result<_>>()?,
        value: r.text(2 + dims)?,
        n: r.int(3 + dims)?,
    })
}

/// A response's id from its stored key.
pub(super) fn response_id(key: String) -> String {
    super::doc_id(&key).to_owned()
}

/// Columns of [`problem_count`], grouped by [`PROBLEM_GROUPS`].
pub(super) const PROBLEM_COUNT: &str = "form_id, form_version, subject, kind, count(*)";
/// The grouping (and order) of [`PROBLEM_COUNT`].
pub(super) const PROBLEM_GROUPS: &str =
    "GROUP BY form_id, form_version, subject, kind ORDER BY form_id, form_version, subject, kind";

pub(super) fn problem_count(r: &impl Row) -> Result<super::ProblemCount> {
    Ok(super::ProblemCount {
        form: r.text(0)?,
        version: r.text(1)?,
        subject: r.opt_text(2)?,
        kind: r.text(3)?,
        responses: r.int(4)?,
    })
}

/// Columns of [`failures`].
pub(super) const FAILURES: &str = "count, first_at, locked_until";

pub(super) fn failures(r: &impl Row) -> Result<crate::throttle::Failures> {
    Ok(crate::throttle::Failures {
        count: u32::try_from(r.int(0)?).unwrap_or(u32::MAX),
        first_at: r.int(1)?,
        locked_until: r.int(2)?,
    })
}

/// Columns of [`flag`].
pub(super) const FLAG: &str = "id, response_key, area_id, raised_at, form_id, form_version, trigger, level, \
    setting, occasion, practitioner, status, status_by, status_at, note";

pub(super) fn flag(r: &impl Row) -> Result<crate::model::Flag> {
    let status = r.text(11)?;
    Ok(crate::model::Flag {
        id: r.int(0)?,
        response_key: r.text(1)?,
        area_id: r.text(2)?,
        raised_at: r.int(3)?,
        form: r.text(4)?,
        version: r.text(5)?,
        trigger: r.text(6)?,
        level: r.text(7)?,
        setting: r.opt_text(8)?,
        occasion: r.opt_text(9)?,
        practitioner: r.opt_text(10)?,
        status: crate::model::FlagStatus::parse(&status)
            .ok_or_else(|| Error::Invalid(format!("stored flag status '{status}' is unknown")))?,
        status_by: r.opt_text(12)?,
        status_at: r.opt_int(13)?,
        note: r.opt_text(14)?,
    })
}
