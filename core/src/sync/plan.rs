//! The sync plan: a pure function from what is staged to what to send, in
//! which order and in which batch. No I/O; table-tested below.

use automerge::ChangeHash;

use crate::doc::{DocKind, same_heads};
use crate::store::replica::{Staged, StagedDoc};

/// One document to send: its changes since `base` (whole if empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedDoc {
    /// Document id.
    pub id: String,
    /// Response or form.
    pub kind: DocKind,
    /// Heads the peer already has (send what follows them).
    pub base: Vec<ChangeHash>,
    /// Carries a safeguarding flag.
    pub flagged: bool,
}

/// What to send, batch by batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Batches, in order. Flagged responses are in the first.
    pub batches: Vec<Vec<PlannedDoc>>,
    /// Erasures to pass on (with the first batch).
    pub erased: Vec<String>,
}

/// Decides what to send: only responses (forms are read-only on devices),
/// only those whose heads differ from what the peer acknowledged, each as
/// the changes after the acknowledged heads; safeguarding-flagged first,
/// then oldest change first; at most `batch_size` documents a batch.
pub fn plan(staged: &Staged, batch_size: usize) -> Plan {
    let mut docs: Vec<&StagedDoc> = staged
        .docs
        .iter()
        .filter(|d| d.kind == DocKind::Response)
        .filter(|d| d.acked.as_ref().is_none_or(|a| !same_heads(a, &d.heads)))
        .collect();
    docs.sort_by_key(|d| (!d.flagged, d.seq));
    let planned: Vec<PlannedDoc> = docs
        .into_iter()
        .map(|d| PlannedDoc {
            id: d.id.clone(),
            kind: d.kind,
            base: d.acked.clone().unwrap_or_default(),
            flagged: d.flagged,
        })
        .collect();
    Plan {
        batches: planned
            .chunks(batch_size.max(1))
            .map(<[PlannedDoc]>::to_vec)
            .collect(),
        erased: staged.erased.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> ChangeHash {
        ChangeHash([n; 32])
    }

    fn doc(id: &str, seq: i64, heads: &[u8], acked: Option<&[u8]>, flagged: bool) -> StagedDoc {
        StagedDoc {
            id: id.into(),
            kind: DocKind::Response,
            seq,
            heads: heads.iter().map(|n| h(*n)).collect(),
            acked: acked.map(|a| a.iter().map(|n| h(*n)).collect()),
            flagged,
        }
    }

    fn ids(plan: &Plan) -> Vec<Vec<String>> {
        plan.batches
            .iter()
            .map(|b| b.iter().map(|d| d.id.clone()).collect())
            .collect()
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            docs: Vec<StagedDoc>,
            batch: usize,
            expect: Vec<Vec<&'static str>>,
        }
        let form = StagedDoc {
            kind: DocKind::Form,
            ..doc("form:x@1.0.0", 1, &[1], None, false)
        };
        let cases = vec![
            Case {
                name: "nothing staged: nothing to send",
                docs: vec![],
                batch: 10,
                expect: vec![],
            },
            Case {
                name: "never acked: sent",
                docs: vec![doc("a", 1, &[1], None, false)],
                batch: 10,
                expect: vec![vec!["a"]],
            },
            Case {
                name: "acked at current heads: skipped (e.g. just downloaded)",
                docs: vec![doc("a", 1, &[1, 2], Some(&[2, 1]), false)],
                batch: 10,
                expect: vec![],
            },
            Case {
                name: "acked at older heads: sent",
                docs: vec![doc("a", 1, &[2], Some(&[1]), false)],
                batch: 10,
                expect: vec![vec!["a"]],
            },
            Case {
                name: "forms are never uploaded",
                docs: vec![form],
                batch: 10,
                expect: vec![],
            },
            Case {
                name: "flagged first, then by sequence",
                docs: vec![
                    doc("old", 1, &[1], None, false),
                    doc("new", 5, &[1], None, false),
                    doc("flag-late", 9, &[1], None, true),
                    doc("flag-early", 3, &[1], None, true),
                ],
                batch: 10,
                expect: vec![vec!["flag-early", "flag-late", "old", "new"]],
            },
            Case {
                name: "batched",
                docs: (1..=5)
                    .map(|i| doc(&format!("d{i}"), i, &[1], None, false))
                    .collect(),
                batch: 2,
                expect: vec![vec!["d1", "d2"], vec!["d3", "d4"], vec!["d5"]],
            },
        ];
        for c in cases {
            let staged = Staged {
                docs: c.docs,
                ..Staged::default()
            };
            let expect: Vec<Vec<String>> = c
                .expect
                .iter()
                .map(|b| b.iter().map(|s| (*s).to_owned()).collect())
                .collect();
            assert_eq!(ids(&plan(&staged, c.batch)), expect, "{}", c.name);
        }
    }

    #[test]
    fn base_is_the_acknowledged_heads() {
        let staged = Staged {
            docs: vec![doc("a", 1, &[3], Some(&[1, 2]), false)],
            ..Staged::default()
        };
        assert_eq!(plan(&staged, 10).batches[0][0].base, vec![h(1), h(2)]);
        let fresh = Staged {
            docs: vec![doc("a", 1, &[3], None, false)],
            ..Staged::default()
        };
        assert!(plan(&fresh, 10).batches[0][0].base.is_empty());
    }
}
