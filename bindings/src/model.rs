//! Mirror records and enums of the core's types, with `From` impls both
//! ways where the app passes them in. Field for field; no logic.
//!
//! Texts in several languages are maps from a BCP 47 tag (`"en"`, `"cy"`)
//! to the text, so an app shows every language the form has.

use std::collections::HashMap;

use hark_core::form as core_form;
use hark_core::sync::client::SyncReport as CoreSyncReport;

/// Text by language tag.
pub type Texts = HashMap<String, String>;

fn texts(t: &core_form::Text) -> Texts {
    t.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn opt_texts(t: Option<&core_form::Text>) -> Option<Texts> {
    t.map(texts)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

// ----- forms ------------------------------------------------------------

/// A survey form as the app shows it. (Named `SurveyForm` so it does not
/// clash with SwiftUI's `Form`.)
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct SurveyForm {
    /// Stable id, e.g. `feeling-safe-child`.
    pub id: String,
    /// Exact semantic version.
    pub version: String,
    /// Title, by language.
    pub title: Texts,
    /// Introduction read to the respondent, by language.
    pub intro: Option<Texts>,
    /// Who the form is for.
    pub audience: Audience,
    /// Reporting theme.
    pub theme: Theme,
    /// Languages, the default first.
    pub languages: Vec<String>,
    /// Sections the questions are grouped in, in order (`Question.section`
    /// names one).
    pub sections: Vec<Section>,
    /// Questions, in order.
    pub questions: Vec<Question>,
    /// Answers that raise a safeguarding flag, and the guidance.
    pub safeguarding: Vec<SafeguardingTrigger>,
}

impl From<&core_form::Form> for SurveyForm {
    fn from(f: &core_form::Form) -> Self {
        Self {
            id: f.id.clone(),
            version: f.version.to_string(),
            title: texts(&f.title),
            intro: opt_texts(f.intro.as_ref()),
            audience: f.audience.into(),
            theme: f.theme.into(),
            languages: f.languages.clone(),
            sections: f.sections.iter().map(Section::from).collect(),
            questions: f.questions.iter().map(Question::from).collect(),
            safeguarding: f
                .safeguarding
                .iter()
                .map(SafeguardingTrigger::from)
                .collect(),
        }
    }
}

/// A section: a run of questions under one title.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Section {
    /// Id unique among the form's sections.
    pub id: String,
    /// Title, by language.
    pub title: Texts,
    /// Shown as one page where the app shows several questions at once
    /// (child mode still asks one at a time).
    pub one_page: bool,
}

impl From<&core_form::Section> for Section {
    fn from(s: &core_form::Section) -> Self {
        Self {
            id: s.id.clone(),
            title: texts(&s.title),
            one_page: s.one_page,
        }
    }
}

/// One question, with its child-friendly variants.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Question {
    /// Id unique within the form.
    pub id: String,
    /// Kind of answer and its constraints (options with symbols).
    pub kind: QuestionKind,
    /// The question, by language.
    pub label: Texts,
    /// Help text, by language.
    pub hint: Option<Texts>,
    /// Easy-read wording, by language.
    pub easy_read: Option<Texts>,
    /// What to read aloud, by language.
    pub read_aloud: Option<Texts>,
    /// Must be answered (when asked) before submitting.
    pub required: bool,
    /// Only asked depending on earlier answers (skip logic).
    pub conditional: bool,
    /// Offers "I don't know".
    pub allow_dont_know: bool,
    /// Offers "I don't want to say".
    pub allow_prefer_not_to_say: bool,
    /// The id of the section the question is in, if any.
    pub section: Option<String>,
    /// What to say when it is required and left unanswered, by language.
    pub required_message: Option<Texts>,
    /// What to say when an answer is outside its bounds, by language.
    pub constraint_message: Option<Texts>,
}

impl From<&core_form::Question> for Question {
    fn from(q: &core_form::Question) -> Self {
        Self {
            id: q.id.clone(),
            kind: (&q.kind).into(),
            label: texts(&q.label),
            hint: opt_texts(q.hint.as_ref()),
            easy_read: opt_texts(q.easy_read.as_ref()),
            read_aloud: opt_texts(q.read_aloud.as_ref()),
            required: q.required,
            conditional: q.relevant.is_some(),
            allow_dont_know: q.allow_dont_know,
            allow_prefer_not_to_say: q.allow_prefer_not_to_say,
            section: q.section.clone(),
            required_message: opt_texts(q.required_message.as_ref()),
            constraint_message: opt_texts(q.constraint_message.as_ref()),
        }
    }
}

/// The kind of a question and its constraints.
#[derive(Clone, Debug, PartialEq, uniffi::Enum)]
pub enum QuestionKind {
    /// Faces from saddest (1) to happiest (`points`).
    FaceScale {
        /// 3 or 5.
        points: u8,
        /// One label per point, saddest first, with its symbol.
        labels: Vec<ChoiceOption>,
    },
    /// Pick one.
    SingleChoice {
        /// In display order.
        options: Vec<ChoiceOption>,
    },
    /// Pick several.
    MultipleChoice {
        /// In display order.
        options: Vec<ChoiceOption>,
        /// Fewest that may be picked (default 1).
        min_selected: Option<u32>,
        /// Most that may be picked (default all).
        max_selected: Option<u32>,
    },
    /// Yes (`yes`) / no (`no`) / not sure (`not_sure`).
    YesNo,
    /// Free text.
    FreeText {
        /// Longest answer in characters (default 4000).
        max_length: Option<u32>,
    },
    /// A whole number.
    Number {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A decimal number, written as text (`2.5`) so that it is exact.
    Decimal {
        /// Smallest allowed, as text.
        min: Option<String>,
        /// Largest allowed, as text.
        max: Option<String>,
    },
    /// A date, `YYYY-MM-DD`.
    Date {
        /// Earliest allowed.
        min: Option<String>,
        /// Latest allowed.
        max: Option<String>,
    },
    /// Text to show (the label and hint), with nothing to answer: the app
    /// shows it and moves on; an answer to it is refused.
    Note,
}

impl From<&core_form::QuestionKind> for QuestionKind {
    fn from(k: &core_form::QuestionKind) -> Self {
        use core_form::QuestionKind as K;
        let opts = |o: &[core_form::ChoiceOption]| o.iter().map(ChoiceOption::from).collect();
        match k {
            K::FaceScale { points, labels } => Self::FaceScale {
                points: *points,
                labels: opts(labels),
            },
            K::SingleChoice { options } => Self::SingleChoice {
                options: opts(options),
            },
            K::MultipleChoice {
                options,
                min_selected,
                max_selected,
            } => Self::MultipleChoice {
                options: opts(options),
                min_selected: *min_selected,
                max_selected: *max_selected,
            },
            K::YesNo => Self::YesNo,
            K::FreeText { max_length } => Self::FreeText {
                max_length: *max_length,
            },
            K::Number { min, max } => Self::Number {
                min: *min,
                max: *max,
            },
            K::Decimal { min, max } => Self::Decimal {
                min: min.clone(),
                max: max.clone(),
            },
            K::Date { min, max } => Self::Date {
                min: min.clone(),
                max: max.clone(),
            },
            K::Note => Self::Note,
        }
    }
}

/// An option, or a point of a face scale.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ChoiceOption {
    /// Id, unique within the question.
    pub id: String,
    /// Label, by language.
    pub label: Texts,
    /// Easy-read label, by language.
    pub easy_read: Option<Texts>,
    /// Symbol or emoji shown with it.
    pub symbol: Option<String>,
}

impl From<&core_form::ChoiceOption> for ChoiceOption {
    fn from(o: &core_form::ChoiceOption) -> Self {
        Self {
            id: o.id.clone(),
            label: texts(&o.label),
            easy_read: opt_texts(o.easy_read.as_ref()),
            symbol: o.symbol.clone(),
        }
    }
}

/// A safeguarding trigger of a form (what raises a flag, and what to do).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SafeguardingTrigger {
    /// Id, unique within the form.
    pub id: String,
    /// How urgent.
    pub level: FlagLevel,
    /// What the practitioner must do, by language.
    pub guidance: Texts,
}

impl From<&core_form::Trigger> for SafeguardingTrigger {
    fn from(t: &core_form::Trigger) -> Self {
        Self {
            id: t.id.clone(),
            level: t.level.into(),
            guidance: texts(&t.guidance),
        }
    }
}

/// How urgent a safeguarding flag is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum FlagLevel {
    /// Follow up after the visit.
    Concern,
    /// Act now, before leaving.
    Urgent,
}

impl From<core_form::FlagLevel> for FlagLevel {
    fn from(l: core_form::FlagLevel) -> Self {
        match l {
            core_form::FlagLevel::Concern => Self::Concern,
            core_form::FlagLevel::Urgent => Self::Urgent,
        }
    }
}

/// Who a form is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Audience {
    /// Children aged 4 to 7.
    Child4To7,
    /// Children aged 8 to 11.
    Child8To11,
    /// Young people aged 11 to 17.
    YoungPerson11To17,
    /// Young adults aged 18 to 25.
    YoungAdult18To25,
    /// Parents and carers.
    ParentCarer,
}

impl From<core_form::Audience> for Audience {
    fn from(a: core_form::Audience) -> Self {
        use core_form::Audience as A;
        match a {
            A::Child4To7 => Self::Child4To7,
            A::Child8To11 => Self::Child8To11,
            A::YoungPerson11To17 => Self::YoungPerson11To17,
            A::YoungAdult18To25 => Self::YoungAdult18To25,
            A::ParentCarer => Self::ParentCarer,
        }
    }
}

/// Reporting theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Theme {
    /// Feeling safe.
    FeelingSafe,
    /// Identification, assessment and diagnosis.
    Diagnosis,
    /// Satisfaction with a service.
    Satisfaction,
    /// Information, advice, the local offer.
    Information,
    /// Being heard.
    BeingHeard,
    /// Anything else.
    Other,
}

impl From<core_form::Theme> for Theme {
    fn from(t: core_form::Theme) -> Self {
        use core_form::Theme as T;
        match t {
            T::FeelingSafe => Self::FeelingSafe,
            T::Diagnosis => Self::Diagnosis,
            T::Satisfaction => Self::Satisfaction,
            T::Information => Self::Information,
            T::BeingHeard => Self::BeingHeard,
            T::Other => Self::Other,
        }
    }
}

// ----- answers and responses -------------------------------------------

/// An answer to one question.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Answer {
    /// A face-scale point, 1 (saddest) to the number of points.
    Scale {
        /// The point.
        point: u8,
    },
    /// One option id (single choice; yes/no: `yes`, `no`, `not_sure`).
    Choice {
        /// The option id.
        option: String,
    },
    /// Option ids picked (multiple choice).
    Choices {
        /// The option ids.
        options: Vec<String>,
    },
    /// Free text, kept exactly as given.
    Text {
        /// The text.
        text: String,
    },
    /// A whole number.
    Number {
        /// The number.
        value: i64,
    },
    /// A decimal number as text: digits, optionally a point and digits
    /// (`2.5`, `-0.75`); the core refuses anything else and keeps it in
    /// canonical form (`2.50` becomes `2.5`).
    Decimal {
        /// The number's text.
        value: String,
    },
    /// A date, `YYYY-MM-DD`.
    Date {
        /// The date.
        date: String,
    },
    /// "I don't know".
    DontKnow,
    /// "I don't want to say".
    PreferNotToSay,
}

impl From<Answer> for hark_core::Answer {
    fn from(a: Answer) -> Self {
        match a {
            Answer::Scale { point } => Self::Scale(point),
            Answer::Choice { option } => Self::Choice(option),
            Answer::Choices { options } => Self::Choices(options),
            Answer::Text { text } => Self::Text(text),
            Answer::Number { value } => Self::Number(value),
            Answer::Decimal { value } => Self::Decimal(value),
            Answer::Date { date } => Self::Date(date),
            Answer::DontKnow => Self::DontKnow,
            Answer::PreferNotToSay => Self::PreferNotToSay,
        }
    }
}

impl From<hark_core::Answer> for Answer {
    fn from(a: hark_core::Answer) -> Self {
        use hark_core::Answer as A;
        match a {
            A::Scale(point) => Self::Scale { point },
            A::Choice(option) => Self::Choice { option },
            A::Choices(options) => Self::Choices { options },
            A::Text(text) => Self::Text { text },
            A::Number(value) => Self::Number { value },
            A::Decimal(value) => Self::Decimal { value },
            A::Date(date) => Self::Date { date },
            A::DontKnow => Self::DontKnow,
            A::PreferNotToSay => Self::PreferNotToSay,
        }
    }
}

/// What an answer or clear did besides its own question.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Outcome {
    /// Later answers cleared because skip logic no longer asks them.
    pub cleared: Vec<String>,
}

impl From<hark_core::Outcome> for Outcome {
    fn from(o: hark_core::Outcome) -> Self {
        Self { cleared: o.cleared }
    }
}

/// Where and how a response is captured. No names: the practitioner is a
/// staff code. Leave `device` empty and `captured_at` 0 to have them filled.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct ResponseContext {
    /// The area (tenant) id; see `Enrolment.area`.
    pub area: String,
    /// Setting (school, clinic, home, event venue).
    #[uniffi(default = None)]
    pub setting: Option<String>,
    /// The visit or event.
    #[uniffi(default = None)]
    pub occasion: Option<String>,
    /// Staff code of the practitioner (never kept for kiosk responses).
    #[uniffi(default = None)]
    pub practitioner: Option<String>,
    /// Captured anonymously on a shared kiosk device.
    #[uniffi(default = false)]
    pub kiosk: bool,
    /// The device that started it (filled in when empty).
    #[uniffi(default = "")]
    pub device: String,
    /// Capture time, ms since the Unix epoch (filled in when 0).
    #[uniffi(default = 0)]
    pub captured_at: i64,
    /// Age phase for reporting (early_years, primary, secondary, post_16, 19_25).
    #[uniffi(default = None)]
    pub age_phase: Option<String>,
    /// Primary need (e.g. autism, speech_language).
    #[uniffi(default = None)]
    pub need: Option<String>,
    /// Pathway (e.g. autism_assessment).
    #[uniffi(default = None)]
    pub pathway: Option<String>,
    /// Language the form is shown in.
    #[uniffi(default = None)]
    pub language: Option<String>,
}

impl From<ResponseContext> for hark_core::ResponseContext {
    fn from(c: ResponseContext) -> Self {
        Self {
            area: c.area,
            setting: c.setting,
            occasion: c.occasion,
            practitioner: c.practitioner,
            kiosk: c.kiosk,
            device: c.device,
            captured_at: c.captured_at,
            age_phase: c.age_phase,
            need: c.need,
            pathway: c.pathway,
            language: c.language,
        }
    }
}

impl From<hark_core::ResponseContext> for ResponseContext {
    fn from(c: hark_core::ResponseContext) -> Self {
        Self {
            area: c.area,
            setting: c.setting,
            occasion: c.occasion,
            practitioner: c.practitioner,
            kiosk: c.kiosk,
            device: c.device,
            captured_at: c.captured_at,
            age_phase: c.age_phase,
            need: c.need,
            pathway: c.pathway,
            language: c.language,
        }
    }
}

/// The state of a permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Permission {
    /// Not asked yet.
    NotRecorded,
    /// Given.
    Given,
    /// Refused.
    Refused,
    /// Not needed (an adult needs no assent).
    NotApplicable,
}

impl From<Permission> for hark_core::Permission {
    fn from(p: Permission) -> Self {
        match p {
            Permission::NotRecorded => Self::NotRecorded,
            Permission::Given => Self::Given,
            Permission::Refused => Self::Refused,
            Permission::NotApplicable => Self::NotApplicable,
        }
    }
}

impl From<hark_core::Permission> for Permission {
    fn from(p: hark_core::Permission) -> Self {
        use hark_core::Permission as P;
        match p {
            P::NotRecorded => Self::NotRecorded,
            P::Given => Self::Given,
            P::Refused => Self::Refused,
            P::NotApplicable => Self::NotApplicable,
        }
    }
}

/// Consent (parent, or adult respondent) and assent (the child). See
/// `child_consent()` and `adult_consent()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Consent {
    /// Consent of the parent or adult respondent.
    pub consent: Permission,
    /// Assent of the child or young person.
    pub assent: Permission,
}

impl From<Consent> for hark_core::Consent {
    fn from(c: Consent) -> Self {
        Self {
            consent: c.consent.into(),
            assent: c.assent.into(),
        }
    }
}

impl From<hark_core::Consent> for Consent {
    fn from(c: hark_core::Consent) -> Self {
        Self {
            consent: c.consent.into(),
            assent: c.assent.into(),
        }
    }
}

/// A child with a parent's consent and their own assent.
#[uniffi::export]
pub fn child_consent() -> Consent {
    hark_core::Consent::child().into()
}

/// A parent or adult answering for themselves.
#[uniffi::export]
pub fn adult_consent() -> Consent {
    hark_core::Consent::adult().into()
}

/// Draft or submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Status {
    /// Being filled in (or reopened).
    Draft,
    /// Submitted.
    Submitted,
}

impl From<Status> for hark_core::Status {
    fn from(s: Status) -> Self {
        match s {
            Status::Draft => Self::Draft,
            Status::Submitted => Self::Submitted,
        }
    }
}

impl From<hark_core::Status> for Status {
    fn from(s: hark_core::Status) -> Self {
        match s {
            hark_core::Status::Draft => Self::Draft,
            hark_core::Status::Submitted => Self::Submitted,
        }
    }
}

/// A safeguarding flag raised by a submit: show the guidance at once.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SafeguardingFlag {
    /// The trigger's id.
    pub trigger: String,
    /// How urgent.
    pub level: FlagLevel,
    /// What to do, in every language the form has.
    pub guidance: Texts,
}

impl From<hark_core::RaisedFlag> for SafeguardingFlag {
    fn from(f: hark_core::RaisedFlag) -> Self {
        Self {
            trigger: f.trigger,
            level: f.level.into(),
            guidance: texts(&f.guidance),
        }
    }
}

/// A flag as recorded in a response.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct StoredFlag {
    /// The trigger's id.
    pub trigger: String,
    /// `concern` or `urgent`.
    pub level: String,
    /// When first raised, ms since the epoch.
    pub at: i64,
}

impl From<hark_core::response::StoredFlag> for StoredFlag {
    fn from(f: hark_core::response::StoredFlag) -> Self {
        Self {
            trigger: f.trigger,
            level: f.level,
            at: f.at,
        }
    }
}

/// A response without its answers, for lists.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ResponseHeader {
    /// Response id.
    pub id: String,
    /// Form id.
    pub form_id: String,
    /// Exact form version.
    pub form_version: String,
    /// Draft or submitted.
    pub status: Status,
    /// Capture context.
    pub context: ResponseContext,
    /// Consent and assent.
    pub consent: Consent,
    /// When last submitted, ms since the epoch.
    pub submitted_at: Option<i64>,
    /// Questions answered.
    pub answered: u32,
    /// Safeguarding flags raised.
    pub flags: Vec<StoredFlag>,
}

impl From<hark_core::ResponseHeader> for ResponseHeader {
    fn from(h: hark_core::ResponseHeader) -> Self {
        Self {
            id: h.id,
            form_id: h.form.id,
            form_version: h.form.version.to_string(),
            status: h.status.into(),
            context: h.context.into(),
            consent: h.consent.into(),
            submitted_at: h.submitted_at,
            answered: u32::try_from(h.answered).unwrap_or(u32::MAX),
            flags: h.flags.into_iter().map(StoredFlag::from).collect(),
        }
    }
}

/// Two devices answered the same question without seeing each other.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Conflict {
    /// The question.
    pub question: String,
    /// The answer every replica shows.
    pub winner: Answer,
    /// Every concurrent answer, the winner included.
    pub values: Vec<Answer>,
}

impl From<hark_core::Conflict> for Conflict {
    fn from(c: hark_core::Conflict) -> Self {
        Self {
            question: c.question,
            winner: c.winner.into(),
            values: c.values.into_iter().map(Answer::from).collect(),
        }
    }
}

/// A response with its answers.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ResponseView {
    /// Everything but the answers.
    pub header: ResponseHeader,
    /// Current answers by question id.
    pub answers: HashMap<String, Answer>,
    /// Questions answered differently on two devices.
    pub conflicts: Vec<Conflict>,
}

impl From<hark_core::ResponseView> for ResponseView {
    fn from(v: hark_core::ResponseView) -> Self {
        Self {
            header: v.header.into(),
            answers: v.answers.into_iter().map(|(q, a)| (q, a.into())).collect(),
            conflicts: v.conflicts.into_iter().map(Conflict::from).collect(),
        }
    }
}

/// Which responses to list; empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct ResponseFilter {
    /// Only this form.
    #[uniffi(default = None)]
    pub form_id: Option<String>,
    /// Only this status.
    #[uniffi(default = None)]
    pub status: Option<Status>,
    /// Only this visit or event.
    #[uniffi(default = None)]
    pub occasion: Option<String>,
    /// Only responses with a safeguarding flag.
    #[uniffi(default = false)]
    pub flagged_only: bool,
}

impl From<ResponseFilter> for hark_core::ResponseFilter {
    fn from(f: ResponseFilter) -> Self {
        Self {
            form_id: f.form_id,
            status: f.status.map(Into::into),
            occasion: f.occasion,
            flagged_only: f.flagged_only,
        }
    }
}

// ----- kiosk, enrolment, sync -------------------------------------------

/// What a kiosk reset did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct KioskReset {
    /// Responses the family submitted (kept).
    pub submitted: u32,
    /// Unfinished drafts erased.
    pub discarded: u32,
}

impl From<hark_core::KioskReset> for KioskReset {
    fn from(r: hark_core::KioskReset) -> Self {
        Self {
            submitted: r.submitted,
            discarded: r.discarded,
        }
    }
}

/// A "you said, we did" note from the area's leaders, to show families.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FamilyNote {
    /// Stable id.
    pub id: String,
    /// Theme (`feeling_safe`, `diagnosis`, `satisfaction`, ...).
    pub theme: String,
    /// What families said.
    pub you_said: String,
    /// What was done about it.
    pub we_did: String,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

impl From<hark_core::sync::http::Note> for FamilyNote {
    fn from(n: hark_core::sync::http::Note) -> Self {
        Self {
            id: n.id,
            theme: n.theme,
            you_said: n.you_said,
            we_did: n.we_did,
            updated_at: n.updated_at,
        }
    }
}

/// This device's enrolment (the secret token stays inside the store).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Enrolment {
    /// The server's base URL.
    pub server: String,
    /// The device id the server assigned.
    pub device_id: String,
    /// The area (tenant) the device belongs to.
    pub area: String,
}

impl Enrolment {
    pub(crate) fn new(server: String, e: hark_core::sync::http::Enrolment) -> Self {
        Self {
            server,
            device_id: e.device_id,
            area: e.area,
        }
    }
}

/// A document the server refused, and why (no personal data).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RejectedDocument {
    /// Document id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// What a sync did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Documents sent and acknowledged.
    pub sent: u64,
    /// Documents received and applied.
    pub received: u64,
    /// Responses erased here because they were erased elsewhere.
    pub erased_here: u64,
    /// Documents the server refused.
    pub rejected: Vec<RejectedDocument>,
    /// Conflicts in documents received.
    pub conflicts: u64,
    /// Request/response exchanges made.
    pub round_trips: u64,
    /// Documents the server stored with something to show (for example a
    /// response kept but not counted: no consent recorded).
    pub notices: Vec<RejectedDocument>,
}

impl From<hark_core::sync::Rejected> for RejectedDocument {
    fn from(r: hark_core::sync::Rejected) -> Self {
        Self {
            id: r.id,
            reason: r.reason,
        }
    }
}

impl From<CoreSyncReport> for SyncReport {
    fn from(r: CoreSyncReport) -> Self {
        Self {
            notices: r.notices.into_iter().map(RejectedDocument::from).collect(),
            sent: count(r.sent),
            received: count(r.received),
            erased_here: count(r.erased_here),
            rejected: r.rejected.into_iter().map(RejectedDocument::from).collect(),
            conflicts: count(r.conflicts),
            round_trips: count(r.round_trips),
        }
    }
}

/// What importing a bundle did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct BundleImport {
    /// Documents merged or added.
    pub applied: u64,
    /// Responses ignored because they were erased here.
    pub ignored_erased: u64,
    /// Conflicts present after merging.
    pub conflicts: Vec<Conflict>,
}

impl From<hark_core::store::replica::Applied> for BundleImport {
    fn from(a: hark_core::store::replica::Applied) -> Self {
        Self {
            applied: count(a.applied),
            ignored_erased: count(a.ignored_erased),
            conflicts: a.conflicts.into_iter().map(Conflict::from).collect(),
        }
    }
}

/// One value of an area's reporting list.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ListItem {
    /// The value recorded.
    pub id: String,
    /// What people are shown.
    pub label: String,
}

/// The area's reporting lists, as the server sent them: record a
/// response's setting, age phase, need and pathway from these (a value off
/// its list is counted as "other").
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AreaLists {
    /// Changes whenever a list does.
    pub version: i64,
    /// Settings.
    pub settings: Vec<ListItem>,
    /// Age phases.
    pub age_phases: Vec<ListItem>,
    /// Needs.
    pub needs: Vec<ListItem>,
    /// Pathways.
    pub pathways: Vec<ListItem>,
}

impl From<hark_core::lists::AreaLists> for AreaLists {
    fn from(l: hark_core::lists::AreaLists) -> Self {
        let items = |v: Vec<hark_core::lists::ListItem>| {
            v.into_iter()
                .map(|i| ListItem {
                    id: i.id,
                    label: i.label,
                })
                .collect()
        };
        Self {
            version: l.version,
            settings: items(l.settings),
            age_phases: items(l.age_phases),
            needs: items(l.needs),
            pathways: items(l.pathways),
        }
    }
}
