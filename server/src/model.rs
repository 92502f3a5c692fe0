//! The server's records: areas (tenants) and their devices, dashboard
//! users and their roles, audit entries, "you said, we did" notes. Plain
//! data shared by storage, the web layer and the command line; no I/O.

/// An area: a tenant (a local authority and its NHS partners).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    /// Stable id.
    pub id: String,
    /// Unique name, e.g. `hartlepool`.
    pub name: String,
}

/// An enrolled device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// The area it belongs to.
    pub area_id: String,
    /// SHA-256 of its secret token.
    pub token_hash: Vec<u8>,
    /// Label given at enrolment.
    pub label: String,
    /// Revoked devices are refused.
    pub revoked: bool,
}

/// What a dashboard user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users, reads the audit log and row-level exports.
    Administrator,
    /// Reads reports and writes "you said, we did" notes.
    Leader,
    /// The safeguarding lead: sees flagged responses one by one and
    /// records their follow-up (the only role that sees any response on
    /// its own).
    Safeguarding,
}

impl Role {
    /// Stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Administrator => "administrator",
            Self::Leader => "leader",
            Self::Safeguarding => "safeguarding",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "administrator" => Some(Self::Administrator),
            "leader" => Some(Self::Leader),
            "safeguarding" => Some(Self::Safeguarding),
            _ => None,
        }
    }
}

/// A dashboard user (a person, never a device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// The one area the user belongs to.
    pub area_id: String,
    /// Sign-in name, unique across areas.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// What the user may do.
    pub role: Role,
    /// May read free-text answers.
    pub free_text: bool,
}

/// One audit-log entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Order of entries (assigned on write; ignored when appending).
    pub seq: i64,
    /// When, ms since the epoch.
    pub at: i64,
    /// The area whose log it is in.
    #[serde(skip)]
    pub area_id: String,
    /// Who (user name).
    pub actor: String,
    /// What, e.g. `report.read`.
    pub action: String,
    /// The request, e.g. the report's query string.
    pub detail: String,
}

/// A survey link an administrator hands out: anyone with its URL may answer
/// its form, until it closes, reaches its cap or is revoked. A single-use
/// link takes one response. No respondent's name is stored anywhere: the
/// link is for a family, not about one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SurveyLink {
    /// Stable public id (not the secret in the URL).
    pub id: String,
    /// The area it belongs to.
    #[serde(skip)]
    pub area_id: String,
    /// The form it answers (its newest offered version).
    pub form_id: String,
    /// Takes one response only.
    pub single_use: bool,
    /// No answers at or after this time, ms since the epoch.
    pub closes_at: Option<i64>,
    /// Most responses it takes.
    pub cap: Option<i64>,
    /// Responses taken so far.
    pub used: i64,
    /// When it was made, ms since the epoch.
    pub created_at: i64,
    /// Who made it.
    pub created_by: String,
    /// Revoked links take nothing.
    pub revoked: bool,
}

impl SurveyLink {
    /// Whether the link would take a response at `now`.
    pub fn open_at(&self, now: i64) -> bool {
        !self.revoked
            && self.closes_at.is_none_or(|c| now < c)
            && self.cap.is_none_or(|c| self.used < c)
    }
}

/// A "you said, we did" note, shown on the dashboard and on devices.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// Stable id.
    pub id: String,
    /// The area it belongs to.
    #[serde(skip)]
    pub area_id: String,
    /// Theme (`feeling_safe`, `diagnosis`, ...).
    pub theme: String,
    /// What families told us.
    pub you_said: String,
    /// What was done about it.
    pub we_did: String,
    /// Author's user name.
    pub author: String,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// Where a safeguarding flag is in its follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagStatus {
    /// Raised, not yet looked at.
    New,
    /// Looked at by the safeguarding lead.
    Seen,
    /// Followed up (who, when and a note recorded).
    FollowedUp,
}

impl FlagStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Seen => "seen",
            Self::FollowedUp => "followed_up",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Self::New),
            "seen" => Some(Self::Seen),
            "followed_up" => Some(Self::FollowedUp),
            _ => None,
        }
    }
}

/// A safeguarding flag on a response, as the safeguarding lead sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    /// Stable id (assigned when first raised).
    pub id: i64,
    /// The stored key of the response.
    #[serde(skip)]
    pub response_key: String,
    /// The area.
    #[serde(skip)]
    pub area_id: String,
    /// When it was raised on the device (ms since the epoch).
    pub raised_at: i64,
    /// Form id.
    pub form: String,
    /// Form version.
    pub version: String,
    /// The trigger that raised it.
    pub trigger: String,
    /// `concern` or `urgent`.
    pub level: String,
    /// Setting, as recorded (on the area's list or "other").
    pub setting: Option<String>,
    /// The visit or event.
    pub occasion: Option<String>,
    /// The practitioner's staff code (none in kiosk mode).
    pub practitioner: Option<String>,
    /// Where its follow-up is.
    pub status: FlagStatus,
    /// Who last changed the status.
    pub status_by: Option<String>,
    /// When, ms since the epoch.
    pub status_at: Option<i64>,
    /// The follow-up note.
    pub note: Option<String>,
}

/// A published free-text answer (see `storage::Reads::free_text`): its
/// words and the groups its writer is counted in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedQuote {
    /// Setting, age phase, need, pathway and form version, in
    /// `tally::Dim::ALL`'s order (`""` where not recorded).
    pub dims: [String; 5],
    /// The words; `None` once the writer's family erased them (their
    /// groups stay, unlinked from them, so the sets served stay the same).
    pub text: Option<String>,
}
