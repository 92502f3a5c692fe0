//! A response is one Automerge document: the form it answers (id and exact
//! version), its context, consent and assent, status, answers and
//! safeguarding flags.
//!
//! [`ResponseDoc`] is pure domain logic over an [`AutoCommit`]: every
//! operation checks its input against the form first and changes the
//! document only if the whole operation is valid, as a single change. The
//! caller supplies the clock (`now_ms`) and persists the result.
//!
//! Document layout (root map):
//! ```text
//! hark: "response/1"        id, form_id, form_version
//! context: { area, setting, occasion, practitioner, kiosk, device,
//!            captured_at, age_phase, need, pathway, language }
//! consent: { consent, assent }     status: "draft" | "submitted"
//! submitted_at: timestamp
//! answers: { <question>: { t: kind, v: value, at: timestamp } }
//! flags:   { <trigger>: { level, question?, at } }
//! ```
//! Each answer is a fresh map object, so two devices answering the same
//! question concurrently conflict on the question key: Automerge keeps both,
//! picks the same winner on every replica, and [`ResponseDoc::conflicts`]
//! reports them. Answers to different questions never interfere.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, Author, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::answer::{Answer, AnswerError};
use crate::error::{Error, Result, SubmitProblem};
use crate::form::{Audience, FlagLevel, Form, FormRef, Text};

const SCHEMA: &str = "response/1";

/// Where and how a response was captured. Holds no names: the practitioner
/// is a staff code, and kiosk responses carry none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseContext {
    /// The local area (tenant) id.
    pub area: String,
    /// Setting (school, clinic, home, event venue) from the area's list.
    pub setting: Option<String>,
    /// The visit or event this was captured at.
    pub occasion: Option<String>,
    /// Staff code of the practitioner; `None` in kiosk mode.
    pub practitioner: Option<String>,
    /// Captured anonymously on a shared kiosk device.
    pub kiosk: bool,
    /// The device that started the response.
    pub device: String,
    /// When capture started, ms since the Unix epoch.
    pub captured_at: i64,
    /// Age phase for reporting splits (early_years, primary, secondary,
    /// post_16, 19_25), where recorded.
    pub age_phase: Option<String>,
    /// Primary need (e.g. autism, speech_language), where recorded.
    pub need: Option<String>,
    /// Pathway (e.g. autism_assessment), where recorded.
    pub pathway: Option<String>,
    /// Language the form was shown in.
    pub language: Option<String>,
}

/// The state of a permission.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Not asked yet.
    #[default]
    NotRecorded,
    /// Given.
    Given,
    /// Refused.
    Refused,
    /// Not needed (e.g. a parent answering for themselves needs no assent).
    NotApplicable,
}

impl Permission {
    fn as_str(self) -> &'static str {
        match self {
            Self::NotRecorded => "not_recorded",
            Self::Given => "given",
            Self::Refused => "refused",
            Self::NotApplicable => "not_applicable",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "given" => Self::Given,
            "refused" => Self::Refused,
            "not_applicable" => Self::NotApplicable,
            _ => Self::NotRecorded,
        }
    }
}

/// Consent (from the parent, or the adult respondent) and assent (from the
/// child or young person).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Consent of the parent or of an adult respondent.
    pub consent: Permission,
    /// Assent of the child or young person.
    pub assent: Permission,
}

impl Consent {
    /// A parent or adult answering for themselves.
    pub fn adult() -> Self {
        Self {
            consent: Permission::Given,
            assent: Permission::NotApplicable,
        }
    }

    /// A child with a parent's consent and their own assent.
    pub fn child() -> Self {
        Self {
            consent: Permission::Given,
            assent: Permission::Given,
        }
    }

    /// Every permission a form for `audience` asks for, given: a child's
    /// assent with a parent's consent, or an adult's own consent.
    pub fn given_for(audience: Audience) -> Self {
        if audience.is_child() {
            Self::child()
        } else {
            Self::adult()
        }
    }

    /// Whether a response for `form` may be submitted: adults need consent;
    /// children need their own assent and a parent's consent unless it is
    /// not applicable (a competent young person, consent held elsewhere).
    pub fn permits(&self, form: &Form) -> bool {
        if form.audience.is_child() {
            self.assent == Permission::Given
                && matches!(self.consent, Permission::Given | Permission::NotApplicable)
        } else {
            self.consent == Permission::Given
        }
    }
}

/// Draft or submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being filled in (or reopened for editing).
    Draft,
    /// Submitted by the respondent.
    Submitted,
}

impl Status {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "submitted" => Some(Self::Submitted),
            _ => None,
        }
    }
}

/// A safeguarding flag raised by a submit, with what the practitioner must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedFlag {
    /// The trigger's id.
    pub trigger: String,
    /// How urgent.
    pub level: FlagLevel,
    /// What to do, in every language the form has.
    pub guidance: Text,
}

/// A flag as stored in the document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFlag {
    /// The trigger's id.
    pub trigger: String,
    /// `concern` or `urgent`.
    pub level: String,
    /// When it was first raised, ms since the epoch.
    pub at: i64,
}

/// Two devices answered the same question without seeing each other's
/// answer. Every replica shows `winner`; `values` holds all of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The question.
    pub question: String,
    /// The answer every replica shows.
    pub winner: Answer,
    /// Every concurrent answer, the winner included.
    pub values: Vec<Answer>,
}

/// What an answer or clear did besides its own question.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Later answers cleared because skip logic no longer asks them.
    pub cleared: Vec<String>,
}

/// Everything about a response except its answers, for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHeader {
    /// Response id.
    pub id: String,
    /// Form id and exact version.
    pub form: FormRef,
    /// Draft or submitted.
    pub status: Status,
    /// Capture context.
    pub context: ResponseContext,
    /// Consent and assent.
    pub consent: Consent,
    /// When last submitted.
    pub submitted_at: Option<i64>,
    /// Number of questions answered.
    pub answered: usize,
    /// Safeguarding flags raised.
    pub flags: Vec<StoredFlag>,
}

/// One response document.
#[derive(Debug)]
pub struct ResponseDoc {
    doc: AutoCommit,
    id: String,
    form: FormRef,
}

fn author_of(author: &str) -> Option<Author<'static>> {
    Some(Author::from(author.as_bytes().to_vec()))
}

impl ResponseDoc {
    /// Starts a new draft response to `form`. `author` records who made the
    /// change (a staff code, or the device id in kiosk mode).
    pub fn start(
        id: &str,
        form: &Form,
        context: &ResponseContext,
        consent: Consent,
        author: &str,
    ) -> Result<Self> {
        Self::start_as(ActorId::random(), id, form, context, consent, author)
    }

    /// [`ResponseDoc::start`] with the actor the new document writes as.
    /// Responses started in one session of a store share its actor, so a
    /// batch of them compresses better on the wire (the actor is written
    /// once per document). The caller must keep the rule Automerge needs:
    /// an actor never writes to one document from two live copies, so it is
    /// made fresh for each session, never persisted, and used only to start
    /// documents under fresh random ids (loading gives a document a fresh
    /// actor). Where an id can be made twice (a hub's idempotent
    /// submissions), use [`ResponseDoc::start`].
    pub fn start_as(
        actor: ActorId,
        id: &str,
        form: &Form,
        context: &ResponseContext,
        consent: Consent,
        author: &str,
    ) -> Result<Self> {
        // The author first: setting one gives the document a fresh actor.
        let mut doc = AutoCommit::new()
            .with_author(author_of(author))
            .with_actor(actor);
        doc.put(ROOT, "hark", SCHEMA)?;
        doc.put(ROOT, "id", id)?;
        doc.put(ROOT, "form_id", form.id.as_str())?;
        doc.put(ROOT, "form_version", form.version.to_string())?;
        doc.put_object(ROOT, "context", ObjType::Map)?;
        doc.put_object(ROOT, "consent", ObjType::Map)?;
        doc.put_object(ROOT, "answers", ObjType::Map)?;
        doc.put_object(ROOT, "flags", ObjType::Map)?;
        doc.put(ROOT, "status", Status::Draft.as_str())?;
        let mut this = Self {
            doc,
            id: id.to_owned(),
            form: form.form_ref(),
        };
        this.write_context(context)?;
        this.write_consent(consent)?;
        this.doc.commit_with(
            automerge::transaction::CommitOptions::default().with_time(context.captured_at / 1000),
        );
        Ok(this)
    }

    /// Loads a response from saved bytes (a snapshot, possibly followed by
    /// change chunks). A fresh random actor id is used, never a stored one.
    pub fn load(bytes: &[u8], author: &str) -> Result<Self> {
        let mut doc = AutoCommit::load(bytes)?;
        doc.set_author(author_of(author));
        Self::from_doc(doc)
    }

    /// Wraps an Automerge document that should be a hark response (the
    /// server's merged copy), checking that it is one.
    pub fn from_automerge(doc: AutoCommit) -> Result<Self> {
        Self::from_doc(doc)
    }

    fn from_doc(doc: AutoCommit) -> Result<Self> {
        let root = Fields::read(&doc, &ROOT);
        let get = |key: &str| -> Result<String> {
            root.str(key)
                .ok_or_else(|| Error::Malformed(format!("missing '{key}'")))
        };
        if get("hark")? != SCHEMA {
            return Err(Error::Malformed("not a hark response".into()));
        }
        let version = semver::Version::parse(&get("form_version")?)
            .map_err(|_| Error::Malformed("bad form version".into()))?;
        let id = get("id")?;
        let form = FormRef {
            id: get("form_id")?,
            version,
        };
        Ok(Self { doc, id, form })
    }

    /// The response id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The form and version this response answers.
    pub fn form_ref(&self) -> &FormRef {
        &self.form
    }

    /// The underlying document, given back (to merge more into it).
    pub fn into_automerge(self) -> AutoCommit {
        self.doc
    }

    /// The underlying document (for sync and storage).
    pub fn doc_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// The heads of the document.
    pub fn heads(&mut self) -> Vec<automerge::ChangeHash> {
        self.doc.get_heads()
    }

    /// Changes the author recorded on the next changes.
    pub fn set_author(&mut self, author: &str) {
        self.doc.set_author(author_of(author));
    }

    fn obj(&self, key: &str) -> Result<ObjId> {
        match self.doc.get(ROOT, key)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(Error::Malformed(format!("missing '{key}'"))),
        }
    }

    /// Current status.
    pub fn status(&self) -> Status {
        str_at(&self.doc, &ROOT, "status")
            .and_then(|s| Status::parse(&s))
            .unwrap_or(Status::Draft)
    }

    /// The current answers (the winner where devices conflicted).
    pub fn answers(&self) -> Result<BTreeMap<String, Answer>> {
        self.answers_in(&Fields::read(&self.doc, &ROOT))
    }

    fn answers_in(&self, root: &Fields) -> Result<BTreeMap<String, Answer>> {
        let answers = root
            .object("answers", ObjType::Map)
            .ok_or_else(|| Error::Malformed("missing 'answers'".into()))?;
        Fields::read(&self.doc, answers)
            .maps()
            .map(|(key, obj)| Ok((key.to_owned(), read_answer(&self.doc, obj)?)))
            .collect()
    }

    /// The answers that count: those whose question skip logic asks given
    /// the others (a merge can bring in an answer that skip logic now
    /// skips). See [`Form::walk`].
    pub fn effective_answers(&self, form: &Form) -> Result<BTreeMap<String, Answer>> {
        Ok(form.walk(&self.answers()?).kept)
    }

    /// Questions answered concurrently on different devices.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let answers = self.obj("answers")?;
        let mut out = Vec::new();
        for key in self.doc.keys(&answers) {
            let all = self.doc.get_all(&answers, key.as_str())?;
            if all.len() > 1 {
                let values = all
                    .iter()
                    .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
                    .map(|(_, obj)| read_answer(&self.doc, obj))
                    .collect::<Result<Vec<_>>>()?;
                let winner = match self.doc.get(&answers, key.as_str())? {
                    Some((_, obj)) => read_answer(&self.doc, &obj)?,
                    None => continue,
                };
                out.push(Conflict {
                    question: key,
                    winner,
                    values,
                });
            }
        }
        Ok(out)
    }

    fn check_form(&self, form: &Form) -> Result<()> {
        if form.form_ref() == self.form {
            Ok(())
        } else {
            Err(Error::FormNotInstalled(self.form.clone()))
        }
    }

    fn ensure_draft(&self) -> Result<()> {
        match self.status() {
            Status::Draft => Ok(()),
            Status::Submitted => Err(Error::AlreadySubmitted),
        }
    }

    /// Records an answer. Refused (and nothing changes) if the response is
    /// submitted, the question unknown, not asked given earlier answers, or
    /// the answer invalid for it. Later answers that the new answer makes
    /// irrelevant are cleared in the same change.
    pub fn answer(
        &mut self,
        form: &Form,
        question: &str,
        answer: Answer,
        now_ms: i64,
    ) -> Result<Outcome> {
        self.check_form(form)?;
        self.ensure_draft()?;
        let q = form
            .question(question)
            .ok_or_else(|| AnswerError::UnknownQuestion {
                question: question.to_owned(),
            })?;
        let all = self.answers()?;
        let walk = form.walk(&all);
        if !walk.is_asked(question) {
            return Err(AnswerError::NotRelevant {
                question: question.to_owned(),
            }
            .into());
        }
        let answer = q.check(answer)?;
        let mut answers = walk.kept;
        answers.insert(question.to_owned(), answer.clone());
        let cleared = cleared_by(form, &answers, &all);
        let obj = self.obj("answers")?;
        let result = (|| -> Result<()> {
            put_answer(&mut self.doc, &obj, question, &answer, now_ms)?;
            for c in &cleared {
                self.doc.delete(&obj, c.as_str())?;
            }
            Ok(())
        })();
        self.finish(result, now_ms)?;
        Ok(Outcome { cleared })
    }

    /// Clears an answer (and later answers that depended on it).
    pub fn clear(&mut self, form: &Form, question: &str, now_ms: i64) -> Result<Outcome> {
        self.check_form(form)?;
        self.ensure_draft()?;
        if form.question(question).is_none() {
            return Err(AnswerError::UnknownQuestion {
                question: question.to_owned(),
            }
            .into());
        }
        let all = self.answers()?;
        if !all.contains_key(question) {
            return Ok(Outcome::default());
        }
        let mut remaining = all.clone();
        remaining.remove(question);
        let cleared = cleared_by(form, &remaining, &all);
        let obj = self.obj("answers")?;
        let result = (|| -> Result<()> {
            self.doc.delete(&obj, question)?;
            for c in &cleared {
                self.doc.delete(&obj, c.as_str())?;
            }
            Ok(())
        })();
        self.finish(result, now_ms)?;
        Ok(Outcome { cleared })
    }

    /// Updates the capture context (e.g. a corrected setting). Only fields
    /// that differ are written, so concurrent edits of different fields merge.
    pub fn set_context(&mut self, context: &ResponseContext, now_ms: i64) -> Result<()> {
        let result = self.write_context(context);
        self.finish(result, now_ms)
    }

    /// Records consent and assent.
    pub fn set_consent(&mut self, consent: Consent, now_ms: i64) -> Result<()> {
        let result = self.write_consent(consent);
        self.finish(result, now_ms)
    }

    /// Submits the response. Refused, changing nothing, unless consent
    /// permits it and every relevant required question is answered. Answers
    /// that skip logic no longer asks are dropped. Returns every safeguarding
    /// flag the answers raise, with the guidance to show at once.
    pub fn submit(&mut self, form: &Form, now_ms: i64) -> Result<Vec<RaisedFlag>> {
        self.check_form(form)?;
        self.ensure_draft()?;
        let all = self.answers()?;
        let walk = form.walk(&all);
        let mut problems = Vec::new();
        if !self.consent().permits(form) {
            problems.push(SubmitProblem::NoConsent);
        }
        problems.extend(
            walk.missing_required()
                .into_iter()
                .map(|q| SubmitProblem::MissingRequired(q.to_owned())),
        );
        if !problems.is_empty() {
            return Err(Error::Incomplete(problems));
        }
        let raised: Vec<RaisedFlag> = form
            .raised(&walk.kept)
            .into_iter()
            .map(|t| RaisedFlag {
                trigger: t.id.clone(),
                level: t.level,
                guidance: t.guidance.clone(),
            })
            .collect();
        // Answers that do not count: skipped, or to no question of the form.
        let stale: Vec<String> = all
            .into_keys()
            .filter(|k| !walk.kept.contains_key(k))
            .collect();
        let answers = self.obj("answers")?;
        let flags = self.obj("flags")?;
        let existing: Vec<String> = self.doc.keys(&flags).collect();
        let result = (|| -> Result<()> {
            for k in &stale {
                self.doc.delete(&answers, k.as_str())?;
            }
            for f in raised.iter().filter(|f| !existing.contains(&f.trigger)) {
                let obj = self
                    .doc
                    .put_object(&flags, f.trigger.as_str(), ObjType::Map)?;
                self.doc.put(&obj, "level", f.level.as_str())?;
                self.doc.put(&obj, "at", ScalarValue::Timestamp(now_ms))?;
            }
            self.doc.put(ROOT, "status", Status::Submitted.as_str())?;
            self.doc
                .put(ROOT, "submitted_at", ScalarValue::Timestamp(now_ms))?;
            Ok(())
        })();
        self.finish(result, now_ms)?;
        Ok(raised)
    }

    /// Reopens a submitted response for editing. Flags already raised stay.
    pub fn reopen(&mut self, now_ms: i64) -> Result<()> {
        if self.status() != Status::Submitted {
            return Err(Error::NotSubmitted);
        }
        let result = self
            .doc
            .put(ROOT, "status", Status::Draft.as_str())
            .map_err(Error::from);
        self.finish(result, now_ms)
    }

    /// Merges another copy of the same response into this one and returns
    /// the conflicts now present.
    pub fn merge(&mut self, other: &mut ResponseDoc) -> Result<Vec<Conflict>> {
        if other.id != self.id || other.form != self.form {
            return Err(Error::NotSameResponse);
        }
        self.doc.merge(&mut other.doc)?;
        self.conflicts()
    }

    /// Commits a successful operation as one change, or rolls a failed one
    /// back so the document is exactly as before.
    fn finish(&mut self, result: Result<()>, now_ms: i64) -> Result<()> {
        match result {
            Ok(()) => {
                self.doc.commit_with(
                    automerge::transaction::CommitOptions::default().with_time(now_ms / 1000),
                );
                Ok(())
            }
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    fn write_context(&mut self, c: &ResponseContext) -> Result<()> {
        let obj = self.obj("context")?;
        let current = self.context();
        let fields: [(&str, Option<&str>, Option<&str>); 9] = [
            ("area", Some(&c.area), Some(&current.area)),
            ("setting", c.setting.as_deref(), current.setting.as_deref()),
            (
                "occasion",
                c.occasion.as_deref(),
                current.occasion.as_deref(),
            ),
            (
                "practitioner",
                c.practitioner.as_deref(),
                current.practitioner.as_deref(),
            ),
            ("device", Some(&c.device), Some(&current.device)),
            (
                "age_phase",
                c.age_phase.as_deref(),
                current.age_phase.as_deref(),
            ),
            ("need", c.need.as_deref(), current.need.as_deref()),
            ("pathway", c.pathway.as_deref(), current.pathway.as_deref()),
            (
                "language",
                c.language.as_deref(),
                current.language.as_deref(),
            ),
        ];
        let fresh = self.doc.keys(&obj).next().is_none();
        for (key, new, old) in fields {
            if new != old || (fresh && new.is_some()) {
                match new {
                    Some(v) => self.doc.put(&obj, key, v)?,
                    None => self.doc.delete(&obj, key)?,
                }
            }
        }
        if fresh || c.kiosk != current.kiosk {
            self.doc.put(&obj, "kiosk", c.kiosk)?;
        }
        if fresh || c.captured_at != current.captured_at {
            self.doc
                .put(&obj, "captured_at", ScalarValue::Timestamp(c.captured_at))?;
        }
        Ok(())
    }

    fn write_consent(&mut self, consent: Consent) -> Result<()> {
        let obj = self.obj("consent")?;
        self.doc.put(&obj, "consent", consent.consent.as_str())?;
        self.doc.put(&obj, "assent", consent.assent.as_str())?;
        Ok(())
    }

    /// The capture context.
    pub fn context(&self) -> ResponseContext {
        self.context_in(&Fields::read(&self.doc, &ROOT))
    }

    fn context_in(&self, root: &Fields) -> ResponseContext {
        let Some(obj) = root.object("context", ObjType::Map) else {
            return ResponseContext::default();
        };
        let f = Fields::read(&self.doc, obj);
        ResponseContext {
            area: f.str("area").unwrap_or_default(),
            setting: f.str("setting"),
            occasion: f.str("occasion"),
            practitioner: f.str("practitioner"),
            kiosk: f.bool("kiosk"),
            device: f.str("device").unwrap_or_default(),
            captured_at: f.int("captured_at").unwrap_or(0),
            age_phase: f.str("age_phase"),
            need: f.str("need"),
            pathway: f.str("pathway"),
            language: f.str("language"),
        }
    }

    /// Consent and assent.
    pub fn consent(&self) -> Consent {
        self.consent_in(&Fields::read(&self.doc, &ROOT))
    }

    fn consent_in(&self, root: &Fields) -> Consent {
        let Some(obj) = root.object("consent", ObjType::Map) else {
            return Consent::default();
        };
        let f = Fields::read(&self.doc, obj);
        Consent {
            consent: Permission::parse(&f.str("consent").unwrap_or_default()),
            assent: Permission::parse(&f.str("assent").unwrap_or_default()),
        }
    }

    /// Safeguarding flags raised so far.
    pub fn flags(&self) -> Vec<StoredFlag> {
        self.flags_in(&Fields::read(&self.doc, &ROOT))
    }

    fn flags_in(&self, root: &Fields) -> Vec<StoredFlag> {
        let Some(flags) = root.object("flags", ObjType::Map) else {
            return Vec::new();
        };
        Fields::read(&self.doc, flags)
            .maps()
            .map(|(trigger, obj)| {
                let f = Fields::read(&self.doc, obj);
                StoredFlag {
                    level: f.str("level").unwrap_or_default(),
                    at: f.int("at").unwrap_or(0),
                    trigger: trigger.to_owned(),
                }
            })
            .collect()
    }

    /// Everything but the answers.
    pub fn header(&self) -> Result<ResponseHeader> {
        Ok(self.read()?.0)
    }

    /// The header and the answers together, reading the document once.
    pub fn read(&self) -> Result<(ResponseHeader, BTreeMap<String, Answer>)> {
        let root = Fields::read(&self.doc, &ROOT);
        let answers = self.answers_in(&root)?;
        let header = ResponseHeader {
            id: self.id.clone(),
            form: self.form.clone(),
            status: root
                .str("status")
                .and_then(|s| Status::parse(&s))
                .unwrap_or(Status::Draft),
            context: self.context_in(&root),
            consent: self.consent_in(&root),
            submitted_at: root.int("submitted_at"),
            answered: answers.len(),
            flags: self.flags_in(&root),
        };
        Ok((header, answers))
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// Changes made since the last `save` or `save_incremental`.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }
}

/// Answered questions in `before` that skip logic no longer asks given `now`.
fn cleared_by(
    form: &Form,
    now: &BTreeMap<String, Answer>,
    before: &BTreeMap<String, Answer>,
) -> Vec<String> {
    form.walk(now)
        .skipped
        .into_iter()
        .filter(|q| before.contains_key(*q))
        .map(str::to_owned)
        .collect()
}

/// An object's current fields, read in one pass over the map: Automerge
/// answers a whole-map walk far faster than one lookup per key, and a
/// response is read on every merge the server does.
struct Fields(Vec<(String, Value<'static>, ObjId)>);

impl Fields {
    fn read(doc: &impl ReadDoc, obj: &ObjId) -> Self {
        Self(
            doc.map_range(obj, ..)
                .map(|item| {
                    let id = item.id();
                    (item.key.into_owned(), Value::from(item.value), id)
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&Value<'static>> {
        self.0.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v)
    }

    fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Scalar(v) => match v.as_ref() {
                ScalarValue::Str(s) => Some(s.to_string()),
                _ => None,
            },
            Value::Object(_) => None,
        }
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Scalar(v) => scalar_int(v),
            Value::Object(_) => None,
        }
    }

    fn bool(&self, key: &str) -> bool {
        matches!(self.get(key), Some(Value::Scalar(v)) if matches!(v.as_ref(), ScalarValue::Boolean(true)))
    }

    /// The id of a field holding an object of type `ty`.
    fn object(&self, key: &str, ty: ObjType) -> Option<&ObjId> {
        self.0
            .iter()
            .find(|(k, v, _)| k == key && *v == Value::Object(ty))
            .map(|(_, _, id)| id)
    }

    /// Every field holding a map, with its id.
    fn maps(&self) -> impl Iterator<Item = (&str, &ObjId)> {
        self.0
            .iter()
            .filter(|(_, v, _)| *v == Value::Object(ObjType::Map))
            .map(|(k, _, id)| (k.as_str(), id))
    }
}

fn scalar_int(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::Int(n) | ScalarValue::Timestamp(n) => Some(*n),
        ScalarValue::Uint(n) => i64::try_from(*n).ok(),
        _ => None,
    }
}

fn str_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(v), _) => match v.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn put_answer(
    doc: &mut AutoCommit,
    answers: &ObjId,
    question: &str,
    answer: &Answer,
    at: i64,
) -> Result<()> {
    let obj = doc.put_object(answers, question, ObjType::Map)?;
    doc.put(&obj, "t", answer.kind())?;
    match answer {
        Answer::Scale(n) => doc.put(&obj, "v", i64::from(*n))?,
        Answer::Number(n) => doc.put(&obj, "v", *n)?,
        Answer::Choice(s) | Answer::Text(s) | Answer::Date(s) | Answer::Decimal(s) => {
            doc.put(&obj, "v", s.as_str())?;
        }
        Answer::Choices(picked) => {
            let list = doc.put_object(&obj, "v", ObjType::List)?;
            for (i, p) in picked.iter().enumerate() {
                doc.insert(&list, i, p.as_str())?;
            }
        }
        Answer::DontKnow | Answer::PreferNotToSay => {}
    }
    doc.put(&obj, "at", ScalarValue::Timestamp(at))?;
    Ok(())
}

fn read_answer(doc: &impl ReadDoc, obj: &ObjId) -> Result<Answer> {
    let bad = || Error::Malformed("unreadable answer".into());
    let f = Fields::read(doc, obj);
    let kind = f.str("t").ok_or_else(bad)?;
    let s = || f.str("v").ok_or_else(bad);
    let n = || f.int("v").ok_or_else(bad);
    Ok(match kind.as_str() {
        "scale" => Answer::Scale(u8::try_from(n()?).map_err(|_| bad())?),
        "number" => Answer::Number(n()?),
        "choice" => Answer::Choice(s()?),
        "text" => Answer::Text(s()?),
        "date" => Answer::Date(s()?),
        "decimal" => Answer::Decimal(s()?),
        "dont_know" => Answer::DontKnow,
        "prefer_not_to_say" => Answer::PreferNotToSay,
        "choices" => {
            let list = f.object("v", ObjType::List).ok_or_else(bad)?;
            let mut picked = Vec::new();
            for i in 0..doc.length(list) {
                match doc.get(list, i)? {
                    Some((Value::Scalar(v), _)) => match v.as_ref() {
                        ScalarValue::Str(s) => picked.push(s.to_string()),
                        _ => return Err(bad()),
                    },
                    _ => return Err(bad()),
                }
            }
            Answer::Choices(picked)
        }
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests;
