//! Tallies: the pre-aggregated counts reports read. Each submitted response
//! adds 1 to one cell per answered value (and to an "answered" marker per
//! question, and to a "responses" marker per form), keyed by month, form
//! version and every reporting dimension. Both backends keep the tallies in
//! the same transaction as the projection they derive from, so a report
//! never disagrees with the responses stored; this module says which cells
//! a projection touches (pure).
//!
//! Rollups: a report splits and filters by at most two of setting, age
//! phase, need and pathway, so the published tallies keep each count with
//! every set of at most two of them (the others written [`ALL`]: 11 rows,
//! [`ROLLUPS`]) and a report reads only its rollup: a few thousand rows
//! even with millions of responses. The live tallies, which ingest writes,
//! keep each count once, with all four dimensions: publication adds them up
//! into the rollups, once per month (`storage::query::publish_tallies_sql`),
//! so ingest does one write per cell instead of eleven. Writers add up a
//! whole transaction's changes first ([`Deltas`]), so a batch of responses
//! touches each live row once. The SQL that reads and writes tallies is the
//! backends' (`storage/`); this module is pure.

use std::collections::HashMap;

use hark_core::answer::{DONT_KNOW, PREFER_NOT_TO_SAY};

use crate::projection::Projection;

/// The `value` of the cell counting everyone who answered a question
/// (whatever they answered).
pub const VALUE_ANSWERED: &str = "";
/// The `question` of the cells counting a form's submitted responses
/// (one per response, whatever it answered).
pub const QUESTION_RESPONSES: &str = "";
/// A dimension summed over, in a rollup row.
pub const ALL: &str = "*";
/// The `value` of a "don't know" answer (`~` so no option id can equal it).
pub const VALUE_DONT_KNOW: &str = "~dont_know";
/// The `value` of a "don't want to say" answer.
pub const VALUE_PREFER_NOT: &str = "~prefer_not_to_say";
/// The report's option pooling the numbers fewer than the threshold gave
/// (never a tallied value: `~` so no answer can equal it).
pub const VALUE_OTHER: &str = "~other";

/// A reporting dimension stored with each tally.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Setting (school, clinic, home, event).
    Setting,
    /// Age phase (early years, primary, secondary, post-16, 19-25).
    AgePhase,
    /// Primary need.
    Need,
    /// Pathway.
    Pathway,
    /// Form version.
    Version,
}

impl Dim {
    /// Every dimension.
    pub const ALL: [Self; 5] = [
        Self::Setting,
        Self::AgePhase,
        Self::Need,
        Self::Pathway,
        Self::Version,
    ];

    /// Name in URLs and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setting => "setting",
            Self::AgePhase => "age_phase",
            Self::Need => "need",
            Self::Pathway => "pathway",
            Self::Version => "version",
        }
    }

    /// Parses a URL name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One tally cell's key (the area is stored beside it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TallyKey {
    /// Form id.
    pub form_id: String,
    /// Question id, or [`QUESTION_RESPONSES`].
    pub question: String,
    /// Month of capture, `YYYY-MM`.
    pub month: String,
    /// Form version.
    pub form_version: String,
    /// Setting (`""` when not recorded).
    pub setting: String,
    /// Age phase (`""` when not recorded).
    pub age_phase: String,
    /// Need (`""` when not recorded).
    pub need: String,
    /// Pathway (`""` when not recorded).
    pub pathway: String,
    /// Option id, scale point, number, [`VALUE_DONT_KNOW`],
    /// [`VALUE_PREFER_NOT`] or [`VALUE_ANSWERED`].
    pub value: String,
}

/// The cells a projection adds 1 to, as (question, value), given to `cell`
/// (the one statement of what is counted). Drafts add nothing. Text and
/// date answers add only to their question's "answered" marker.
fn cells(p: &Projection, mut cell: impl FnMut(&str, &str)) {
    if !p.counted {
        return;
    }
    cell(QUESTION_RESPONSES, VALUE_ANSWERED);
    for a in &p.answers {
        cell(&a.question, VALUE_ANSWERED);
        match (a.kind.as_str(), &a.value_text, a.value_num) {
            ("text" | "date", _, _) => {}
            (DONT_KNOW, _, _) => cell(&a.question, VALUE_DONT_KNOW),
            (PREFER_NOT_TO_SAY, _, _) => cell(&a.question, VALUE_PREFER_NOT),
            ("choices", Some(v), _) => {
                for option in v.split(',').filter(|o| !o.is_empty()) {
                    cell(&a.question, option);
                }
            }
            (_, _, Some(n)) => cell(&a.question, &n.to_string()),
            (_, Some(v), None) => cell(&a.question, v),
            (_, None, None) => {}
        }
    }
}

/// A dimension's value as tallied: `""` when not recorded, and a recorded
/// value spelled like the rollup marker never passing for it.
fn dim(v: &Option<String>) -> &str {
    match v.as_deref() {
        Some(ALL) => "~*",
        Some(v) => v,
        None => "",
    }
}

/// Net tally changes of a transaction to the live tallies, by area. Strings
/// are interned: a batch of thousands of responses adds up hundreds of
/// thousands of increments before anything is written.
#[derive(Debug, Default)]
pub struct Deltas {
    names: Vec<String>,
    ids: HashMap<String, u32>,
    counts: HashMap<[u32; 10], i64>,
}

impl Deltas {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    /// Adds a response's change from `old` to `new`: its old cells down
    /// by one, its new ones up (unchanged cells net to nothing, and
    /// [`Deltas::rows`] leaves them out).
    pub fn add(&mut self, area_id: &str, old: Option<&Projection>, new: Option<&Projection>) {
        for (p, by) in [(old, -1), (new, 1)] {
            if let Some(p) = p {
                self.count(area_id, p, by);
            }
        }
    }

    fn count(&mut self, area_id: &str, p: &Projection, by: i64) {
        let mut key = [
            self.id(area_id),
            self.id(&p.form_id),
            0,
            self.id(&p.month),
            self.id(&p.form_version),
            self.id(dim(&p.setting)),
            self.id(dim(&p.age_phase)),
            self.id(dim(&p.need)),
            self.id(dim(&p.pathway)),
            0,
        ];
        cells(p, |question, value| {
            key[2] = self.id(question);
            key[9] = self.id(value);
            *self.counts.entry(key).or_default() += by;
        });
    }

    /// The non-zero changes: (area, key, change).
    pub fn rows(&self) -> Vec<(&str, TallyKey, i64)> {
        let name = |i: u32| self.names[i as usize].as_str();
        let mut rows: Vec<(&str, TallyKey, i64)> = self
            .counts
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| {
                (
                    name(k[0]),
                    TallyKey {
                        form_id: name(k[1]).to_owned(),
                        question: name(k[2]).to_owned(),
                        month: name(k[3]).to_owned(),
                        form_version: name(k[4]).to_owned(),
                        setting: name(k[5]).to_owned(),
                        age_phase: name(k[6]).to_owned(),
                        need: name(k[7]).to_owned(),
                        pathway: name(k[8]).to_owned(),
                        value: name(k[9]).to_owned(),
                    },
                    *n,
                )
            })
            .collect();
        // A fixed order: concurrent writers touch rows in the same order.
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        rows
    }
}

/// The dimensions each rollup of the published tallies keeps (the others
/// are [`ALL`]): none, each one, each pair.
pub const ROLLUPS: [&[Dim]; 11] = [
    &[],
    &[Dim::Setting],
    &[Dim::AgePhase],
    &[Dim::Need],
    &[Dim::Pathway],
    &[Dim::Setting, Dim::AgePhase],
    &[Dim::Setting, Dim::Need],
    &[Dim::Setting, Dim::Pathway],
    &[Dim::AgePhase, Dim::Need],
    &[Dim::AgePhase, Dim::Pathway],
    &[Dim::Need, Dim::Pathway],
];

/// What to read from the tallies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyQuery {
    /// The area whose tallies are read.
    pub area_id: String,
    /// Question id.
    pub question: String,
    /// Form versions to include, as (form id, version).
    pub versions: Vec<(String, String)>,
    /// Dimensions to keep apart (the rest are summed).
    pub dims: Vec<Dim>,
    /// First and last month, inclusive (`YYYY-MM`).
    pub months: Option<(String, String)>,
}

/// A row of tallies, grouped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyRow {
    /// Form id.
    pub form_id: String,
    /// Month.
    pub month: String,
    /// Values of the query's dimensions, in order.
    pub dims: Vec<String>,
    /// The value counted.
    pub value: String,
    /// Submitted responses.
    pub n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::AnswerRow;
    use hark_core::response::Status;

    /// The tally cells a projection adds 1 to, in the order [`cells`] gives them.
    fn tally_keys(p: &Projection) -> Vec<TallyKey> {
        let mut keys = Vec::new();
        cells(p, |question, value| {
            keys.push(TallyKey {
                form_id: p.form_id.clone(),
                question: question.to_owned(),
                month: p.month.clone(),
                form_version: p.form_version.clone(),
                setting: dim(&p.setting).to_owned(),
                age_phase: dim(&p.age_phase).to_owned(),
                need: dim(&p.need).to_owned(),
                pathway: dim(&p.pathway).to_owned(),
                value: value.to_owned(),
            });
        });
        keys
    }

    fn answer(question: &str, kind: &str, text: Option<&str>, num: Option<i64>) -> AnswerRow {
        AnswerRow {
            question: question.into(),
            kind: kind.into(),
            value_text: text.map(Into::into),
            value_num: num,
        }
    }

    #[test]
    fn every_answer_kind_tallies_its_values_and_an_answered_marker() {
        let p = Projection {
            form_id: "f".into(),
            form_version: "1.0.0".into(),
            status: Status::Submitted,
            counted: true,
            setting: Some("school".into()),
            month: "2026-03".into(),
            answers: vec![
                answer("scale", "scale", None, Some(4)),
                answer("one", "choice", Some("yes"), None),
                answer("many", "choices", Some("a,c"), None),
                answer("why", "text", Some("because"), None),
                answer("when", "date", Some("2026-01-02"), None),
                answer("dk", "dont_know", None, None),
                answer("pn", "prefer_not_to_say", None, None),
            ],
            ..Projection::default()
        };
        let got: Vec<(String, String)> = tally_keys(&p)
            .into_iter()
            .map(|k| {
                assert_eq!(k.setting, "school");
                assert_eq!(k.need, "", "not recorded");
                (k.question, k.value)
            })
            .collect();
        let want: Vec<(String, String)> = [
            ("", ""),
            ("scale", ""),
            ("scale", "4"),
            ("one", ""),
            ("one", "yes"),
            ("many", ""),
            ("many", "a"),
            ("many", "c"),
            ("why", ""),
            ("when", ""),
            ("dk", ""),
            ("dk", VALUE_DONT_KNOW),
            ("pn", ""),
            ("pn", VALUE_PREFER_NOT),
        ]
        .into_iter()
        .map(|(q, v)| (q.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_changed_answer_moves_one_count_and_leaves_the_rest() {
        let mut old = Projection {
            form_id: "f".into(),
            status: Status::Submitted,
            counted: true,
            month: "2026-03".into(),
            answers: vec![
                answer("a", "scale", None, Some(2)),
                answer("b", "choice", Some("yes"), None),
            ],
            ..Projection::default()
        };
        let mut new = old.clone();
        new.answers[0].value_num = Some(5);
        let delta = |old: Option<&Projection>, new: Option<&Projection>| {
            let mut d = Deltas::new();
            d.add("a", old, new);
            d.rows()
                .into_iter()
                .map(|(_, k, n)| (format!("{}={}", k.question, k.value), n))
                .collect::<Vec<_>>()
        };
        let moved = delta(Some(&old), Some(&new));
        assert_eq!(moved, vec![("a=2".to_owned(), -1), ("a=5".to_owned(), 1)]);
        assert!(delta(Some(&old), Some(&old)).is_empty(), "a replay");
        let erased = delta(Some(&old), None);
        assert_eq!(erased.len(), tally_keys(&old).len());
        assert!(erased.iter().all(|(_, n)| *n == -1));
        old.status = Status::Draft;
        old.counted = false;
        assert!(
            delta(Some(&new), Some(&old)).iter().all(|(_, n)| *n == -1),
            "reopened: no longer counted"
        );
    }

    #[test]
    fn each_count_is_kept_once_with_every_dimension() {
        let p = Projection {
            form_id: "f".into(),
            status: Status::Submitted,
            counted: true,
            month: "2026-03".into(),
            setting: Some("home".into()),
            need: Some("*".into()),
            ..Projection::default()
        };
        let mut deltas = Deltas::new();
        deltas.add("a", None, Some(&p));
        deltas.add("a", None, Some(&p));
        let rows = deltas.rows();
        assert_eq!(rows.len(), 1, "the responses marker, once");
        let (area, k, n) = &rows[0];
        assert_eq!(
            (*area, k.setting.as_str(), k.age_phase.as_str(), *n),
            ("a", "home", "", 2)
        );
        assert_eq!(k.need, "~*", "a recorded '*' is not a rollup");
        deltas.add("a", Some(&p), None);
        deltas.add("a", Some(&p), None);
        assert!(deltas.rows().is_empty(), "an erasure undoes it exactly");
    }

    #[test]
    fn the_rollups_are_every_set_of_at_most_two_dimensions_once() {
        let mut seen = std::collections::BTreeSet::new();
        for dims in ROLLUPS {
            assert!(dims.len() <= 2 && !dims.contains(&Dim::Version));
            assert!(dims.windows(2).all(|w| w[0] < w[1]), "in order, no repeats");
            assert!(seen.insert(dims.to_vec()), "{dims:?} twice");
        }
        assert_eq!(seen.len(), 1 + 4 + 6);
    }

    #[test]
    fn drafts_count_nowhere() {
        let p = Projection {
            status: Status::Draft,
            answers: vec![answer("scale", "scale", None, Some(4))],
            ..Projection::default()
        };
        assert!(tally_keys(&p).is_empty());
    }
}
