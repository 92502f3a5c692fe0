//! The row-level export's side of a projection: its answers packed into
//! one string, stored with the response so an export reads one row per
//! response, the record an export streams, and how the default export is
//! made 5-anonymous ([`anonymise`]).

use hark_core::answer::{DONT_KNOW, PREFER_NOT_TO_SAY};

use crate::error::{Error, Result};
use crate::projection::AnswerRow;
use crate::tally::{VALUE_DONT_KNOW, VALUE_PREFER_NOT};

/// A projection's answers packed into one string, stored with the response
/// so a row-level export reads one row per response: question, kind and
/// value separated by U+001F, answers by U+001E. Free text (the only value
/// that may hold those characters) is hex-encoded.
pub fn pack_answers(answers: &[AnswerRow]) -> String {
    let mut out = String::new();
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            out.push('\u{1e}');
        }
        out.push_str(&a.question);
        out.push('\u{1f}');
        out.push_str(&a.kind);
        out.push('\u{1f}');
        match (&a.value_text, a.value_num) {
            (Some(t), _) if a.kind == "text" => out.push_str(&hex::encode(t)),
            (Some(t), _) => out.push_str(t),
            (None, Some(n)) => out.push_str(&n.to_string()),
            (None, None) => {}
        }
    }
    out
}

/// An exported answer: question, text value, numeric value.
pub type ExportAnswer = (String, Option<String>, Option<i64>);

/// Reverses [`pack_answers`] for an export: free text left out unless
/// `with_text`; "don't know" and "don't want to say" spelled as tallied.
pub fn unpack_answers(packed: &str, with_text: bool) -> Result<Vec<ExportAnswer>> {
    let mut out = Vec::new();
    for a in packed.split('\u{1e}').filter(|a| !a.is_empty()) {
        let mut parts = a.splitn(3, '\u{1f}');
        let (Some(q), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Invalid("stored answer is malformed".into()));
        };
        let q = q.to_owned();
        out.push(match kind {
            "text" if !with_text => continue,
            "text" => {
                let bytes = hex::decode(value)
                    .map_err(|_| Error::Invalid("stored text is malformed".into()))?;
                (q, Some(String::from_utf8_lossy(&bytes).into_owned()), None)
            }
            DONT_KNOW => (q, Some(VALUE_DONT_KNOW.to_owned()), None),
            PREFER_NOT_TO_SAY => (q, Some(VALUE_PREFER_NOT.to_owned()), None),
            "scale" | "number" => (q, None, value.parse().ok()),
            _ if value.is_empty() => (q, None, None),
            _ => (q, Some(value.to_owned()), None),
        });
    }
    Ok(out)
}

/// One response in a row-level export.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRecord {
    /// Form id.
    pub form_id: String,
    /// Form version.
    pub form_version: String,
    /// Month of capture.
    pub month: String,
    /// Setting.
    pub setting: Option<String>,
    /// Age phase.
    pub age_phase: Option<String>,
    /// Need.
    pub need: Option<String>,
    /// Pathway.
    pub pathway: Option<String>,
    /// Captured at a kiosk.
    pub kiosk: bool,
    /// Answers.
    pub answers: Vec<ExportAnswer>,
}

/// A row's quasi-identifiers in the default export: quarter, setting, age
/// phase, need and pathway — what someone who knows a child could match.
pub type Quasi = [String; 5];

/// A quasi-identifier generalised away.
pub const ANY: &str = "*";
/// A rare value, generalised.
pub const OTHER: &str = "other";

/// A record's quasi-identifiers, its month generalised to its quarter.
pub fn quasi(rec: &ExportRecord) -> Quasi {
    let quarter = match (
        rec.month.get(..4),
        rec.month.get(5..7).and_then(|m| m.parse::<u8>().ok()),
    ) {
        (Some(y), Some(m @ 1..=12)) => format!("{y}-Q{}", (m - 1) / 3 + 1),
        _ => ANY.to_owned(),
    };
    let v = |x: &Option<String>| x.clone().unwrap_or_default();
    [
        quarter,
        v(&rec.setting),
        v(&rec.age_phase),
        v(&rec.need),
        v(&rec.pathway),
    ]
}

/// How the default export publishes each row's quasi-identifiers so that
/// every combination it shows is shared by at least `k` rows
/// (k-anonymity): first every value held by fewer than `k` rows becomes
/// "other"; then, for the rows still in groups smaller than `k`, pathway,
/// need, age phase, setting and at last the quarter are generalised away
/// ("*"), one at a time, until their group has `k`. A row left with every
/// identifier generalised away matches nobody, however few such rows
/// there are; no row is left out. The result is a function of each row's
/// identifiers, so equal rows are published alike.
pub fn anonymise(rows: &[Quasi], k: usize) -> std::collections::HashMap<Quasi, Quasi> {
    use std::collections::HashMap;
    let mut distinct: HashMap<Quasi, usize> = HashMap::new();
    for r in rows {
        *distinct.entry(r.clone()).or_default() += 1;
    }
    let mut published: Vec<(Quasi, Quasi, usize)> = distinct
        .into_iter()
        .map(|(q, n)| (q.clone(), q, n))
        .collect();
    for d in 1..5 {
        let mut freq: HashMap<String, usize> = HashMap::new();
        for (_, p, n) in &published {
            *freq.entry(p[d].clone()).or_default() += n;
        }
        for (_, p, _) in &mut published {
            if freq[&p[d]] < k {
                p[d] = OTHER.to_owned();
            }
        }
    }
    for d in [4, 3, 2, 1, 0] {
        let mut sizes: HashMap<Quasi, usize> = HashMap::new();
        for (_, p, n) in &published {
            *sizes.entry(p.clone()).or_default() += n;
        }
        for (_, p, _) in &mut published {
            if sizes[&*p] < k {
                p[d] = ANY.to_owned();
            }
        }
    }
    published
        .into_iter()
        .map(|(orig, p, _)| (orig, p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed answers come back as they went in, whatever the free text holds.
    #[test]
    fn packed_answers_round_trip() {
        let row = |q: &str, kind: &str, t: Option<&str>, n: Option<i64>| AnswerRow {
            question: q.into(),
            kind: kind.into(),
            value_text: t.map(Into::into),
            value_num: n,
        };
        let answers = vec![
            row("a", "scale", None, Some(4)),
            row("b", "choices", Some("x,y"), None),
            row(
                "c",
                "text",
                Some("weird \u{1e}\u{1f} text, \"quoted\"\nnewline"),
                None,
            ),
            row("d", "dont_know", None, None),
            row("e", "prefer_not_to_say", None, None),
            row("f", "number", None, Some(-3)),
            row("g", "date", Some("2026-01-02"), None),
        ];
        let packed = pack_answers(&answers);
        let want = |with_text: bool| {
            let mut v = vec![
                ("a".to_owned(), None, Some(4)),
                ("b".to_owned(), Some("x,y".to_owned()), None),
            ];
            if with_text {
                v.push((
                    "c".to_owned(),
                    Some("weird \u{1e}\u{1f} text, \"quoted\"\nnewline".to_owned()),
                    None,
                ));
            }
            v.extend([
                ("d".to_owned(), Some("~dont_know".to_owned()), None),
                ("e".to_owned(), Some("~prefer_not_to_say".to_owned()), None),
                ("f".to_owned(), None, Some(-3)),
                ("g".to_owned(), Some("2026-01-02".to_owned()), None),
            ]);
            v
        };
        assert_eq!(unpack_answers(&packed, true).expect("unpack"), want(true));
        assert_eq!(unpack_answers(&packed, false).expect("unpack"), want(false));
        assert_eq!(unpack_answers("", true).expect("empty"), vec![]);
        assert!(
            unpack_answers("q\u{1f}text\u{1f}zz", true).is_err(),
            "bad hex"
        );
    }

    fn q(parts: [&str; 5]) -> Quasi {
        parts.map(str::to_owned)
    }

    #[test]
    fn every_published_combination_is_shared_by_five() {
        let mut rows = Vec::new();
        for _ in 0..6 {
            rows.push(q(["2026-Q1", "school", "primary", "autism", "ehcp"]));
        }
        rows.push(q(["2026-Q1", "school", "primary", "sensory", "ehcp"]));
        for _ in 0..5 {
            rows.push(q(["2026-Q1", "clinic", "primary", "autism", "ehcp"]));
        }
        rows.push(q(["2026-Q2", "home", "post_16", "autism", "none"]));
        let map = anonymise(&rows, 5);
        let mut classes: std::collections::HashMap<Quasi, usize> = std::collections::HashMap::new();
        for r in &rows {
            *classes.entry(map[r].clone()).or_default() += 1;
        }
        let nothing = q([ANY; 5]);
        for (class, n) in &classes {
            assert!(*n >= 5 || *class == nothing, "{class:?} has {n}");
        }
        // The big groups keep their values; the lone rows lose theirs
        // but stay in.
        assert_eq!(map[&rows[0]], rows[0]);
        assert_eq!(map[&rows[12]], nothing);
        assert_eq!(map[&rows[6]], nothing);
        assert_eq!(classes.values().sum::<usize>(), rows.len());
    }
}
