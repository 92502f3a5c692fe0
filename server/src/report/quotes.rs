//! Which sets of free-text answers may be read (pure). Quotes are
//! verbatim, so the sets a reader can read can be compared line by line:
//! a quote in one set and not another, in two sets at once, or in
//! everyone's and in none of the others, is the words of whoever is in
//! that part. A reader may ask for everyone's quotes or one value's of one
//! dimension (a published quarter at a time). Comparing every set served,
//! the finest a reader can get is the *atoms*: the writers who are in
//! exactly the same served sets (the same served setting, or none of
//! them; the same served need, or none; and so on). So the sets served
//! are a family whose every atom holds none or at least [`THRESHOLD`]
//! writers: then whatever a reader does with the quotes, each part they
//! can tell apart is a group of at least 5.
//!
//! Only sets whose count the question's reports show are candidates (a
//! set's quotes can be counted, so serving one whose count a report hides
//! would give the count away), and only everyone's and one dimension's
//! in a quarter (the one with the most sets short of everyone): two
//! dimensions' sets would say how many are in both, a cell of a
//! two-dimension table its report may hide. The family is found from the published
//! quotes themselves (each with
//! its writer's groups; an erased family's are gone): every set of at
//! least [`THRESHOLD`], then, while an atom a reader sees holds 1 to 4,
//! the set is withdrawn whose going leaves the fewest writers in such
//! atoms (a value's before everyone's, the smallest first): the clinic's
//! and the home's beside a school of three, say, so that the school's
//! quotes are among the home's in everyone's. It depends only on the
//! published quotes, so every reader gets the same family.

use std::collections::{BTreeMap, BTreeSet};

use super::suppress::THRESHOLD;
use crate::model::PublishedQuote;
use crate::tally::Dim;

/// A set of quotes a reader can ask for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuoteSet {
    /// Every answer.
    Everyone,
    /// The answers of one value of one dimension.
    Value(Dim, String),
}

impl QuoteSet {
    /// Whether `q` is in this set.
    pub fn contains(&self, q: &PublishedQuote) -> bool {
        match self {
            Self::Everyone => true,
            Self::Value(d, v) => Dim::ALL
                .iter()
                .position(|x| x == d)
                .is_some_and(|i| q.dims[i] == *v),
        }
    }
}

/// The writers' groups, each with how many wrote: every quote of a group
/// is in the same sets, so the family is found over these (a few hundred
/// at most), not over every quote.
type Groups<'a> = Vec<(&'a [String; 5], u64)>;

fn groups(quotes: &[PublishedQuote]) -> Groups<'_> {
    let mut by: BTreeMap<&[String; 5], u64> = BTreeMap::new();
    for q in quotes {
        *by.entry(&q.dims).or_default() += 1;
    }
    by.into_iter().collect()
}

/// A group's atom under `family`: per dimension, its value where that
/// value's set is served, else `None`.
fn atom<'a>(family: &BTreeSet<QuoteSet>, dims: &'a [String; 5]) -> [Option<&'a str>; 5] {
    std::array::from_fn(|i| {
        let v = dims[i].as_str();
        family
            .contains(&QuoteSet::Value(Dim::ALL[i], v.to_owned()))
            .then_some(v)
    })
}

/// The sets that may be served (see the module header), of those
/// `allowed` (the sets whose count reports show: a set served can be
/// counted).
pub fn readable_sets(
    quotes: &[PublishedQuote],
    allowed: impl Fn(&QuoteSet) -> bool,
) -> BTreeSet<QuoteSet> {
    let groups = groups(quotes);
    let mut sizes: BTreeMap<QuoteSet, u64> = BTreeMap::new();
    sizes.insert(QuoteSet::Everyone, quotes.len() as u64);
    for (dims, n) in &groups {
        for (i, v) in dims.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
            *sizes
                .entry(QuoteSet::Value(Dim::ALL[i], v.clone()))
                .or_default() += n;
        }
    }
    let candidates: Vec<(&QuoteSet, u64)> = sizes
        .iter()
        .filter(|(s, n)| **n >= THRESHOLD && allowed(s))
        .map(|(s, n)| (s, *n))
        .collect();
    // One dimension's sets (and everyone's): sets of two dimensions would
    // say how many are in both, a count of a two-dimension table that its
    // report may hide. The one with the most sets that are not everyone,
    // then whose sets hold the most writers.
    let everyone = quotes.len() as u64;
    let dim_of = |s: &QuoteSet| match s {
        QuoteSet::Everyone => None,
        QuoteSet::Value(d, _) => Some(*d),
    };
    let chosen = Dim::ALL.into_iter().max_by_key(|d| {
        let sets: Vec<u64> = candidates
            .iter()
            .filter(|(s, n)| dim_of(s) == Some(*d) && *n < everyone)
            .map(|(_, n)| *n)
            .collect();
        // (Ties: the first in `Dim::ALL`.)
        (
            sets.len(),
            sets.iter().sum::<u64>(),
            std::cmp::Reverse(Dim::ALL.iter().position(|x| x == d)),
        )
    });
    let mut family: BTreeSet<QuoteSet> = candidates
        .into_iter()
        .filter(|(s, _)| dim_of(s).is_none_or(|d| Some(d) == chosen))
        .map(|(s, _)| s.clone())
        .collect();
    loop {
        if small_atoms(&family, &groups) == 0 {
            return family;
        }
        // Withdraw the set whose going leaves the fewest writers in small
        // atoms; of those, a value's before everyone's, the smallest.
        let withdraw = family
            .iter()
            .min_by_key(|s| {
                let mut without = family.clone();
                without.remove(*s);
                (
                    small_atoms(&without, &groups),
                    **s == QuoteSet::Everyone,
                    sizes.get(*s).copied().unwrap_or(0),
                    (*s).clone(),
                )
            })
            .cloned();
        match withdraw {
            Some(s) => {
                family.remove(&s);
            }
            None => return family,
        }
    }
}

/// How many writers are in atoms of 1 to 4 that a reader sees (held by
/// some set of `family`).
fn small_atoms(family: &BTreeSet<QuoteSet>, groups: &Groups<'_>) -> u64 {
    let mut atoms: BTreeMap<[Option<&str>; 5], u64> = BTreeMap::new();
    for (dims, n) in groups {
        *atoms.entry(atom(family, dims)).or_default() += n;
    }
    let everyone = family.contains(&QuoteSet::Everyone);
    atoms
        .iter()
        .filter(|(a, n)| (1..THRESHOLD).contains(*n) && (everyone || a.iter().any(Option::is_some)))
        .map(|(_, n)| *n)
        .sum()
}

/// Checks that the quotes of `asked` may be read beside the others;
/// otherwise says why, safely (without a count).
pub fn readable(
    asked: &QuoteSet,
    quotes: &[PublishedQuote],
    allowed: impl Fn(&QuoteSet) -> bool,
) -> Result<(), &'static str> {
    // One answer whatever the reason: "fewer than 5" and "withdrawn"
    // told apart would say which groups are small.
    if readable_sets(quotes, allowed).contains(asked) {
        Ok(())
    } else {
        Err(
            "fewer than 5 people answered with these filters, or comparing them with \
             another group's would single out fewer than 5; widen the filter",
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn value(d: Dim, v: &str) -> QuoteSet {
        QuoteSet::Value(d, v.to_owned())
    }

    /// Quotes of writers with (setting, need), each its own words.
    fn quotes(people: &[(&str, &str)]) -> Vec<PublishedQuote> {
        people
            .iter()
            .enumerate()
            .map(|(i, (s, n))| PublishedQuote {
                dims: [
                    (*s).to_owned(),
                    String::new(),
                    (*n).to_owned(),
                    String::new(),
                    "1.0.0".to_owned(),
                ],
                text: Some(format!("words {i}")),
            })
            .collect()
    }

    fn many<'a>(n: usize, s: &'a str, need: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![(s, need); n]
    }

    #[test]
    fn the_one_autistic_child_elsewhere_cannot_be_isolated() {
        // need=autism: 8; setting=text-a: 7, all of them autistic. Reading
        // both would leave one child's words.
        let mut people = many(7, "text-a", "autism");
        people.extend(many(1, "text-b", "autism"));
        people.extend(many(32, "text-b", "speech"));
        let family = readable_sets(&quotes(&people), |_| true);
        assert!(
            !(family.contains(&value(Dim::Need, "autism"))
                && family.contains(&value(Dim::Setting, "text-a"))),
            "{family:?}"
        );
    }

    #[test]
    fn everyone_less_the_groups_that_can_be_read_is_a_group_too() {
        // Clinic 10, home 10, the special school 3: everyone's quotes less
        // the clinic's and the home's would be the school's three.
        let mut people = many(10, "clinic", "autism");
        people.extend(many(10, "home", "autism"));
        people.extend(many(3, "special", "autism"));
        let q = quotes(&people);
        let family = readable_sets(&q, |_| true);
        let served = [
            QuoteSet::Everyone,
            value(Dim::Setting, "clinic"),
            value(Dim::Setting, "home"),
        ];
        assert!(
            !served.iter().all(|s| family.contains(s)),
            "everyone, the clinic and the home together give the school away: {family:?}"
        );
        assert!(family.contains(&QuoteSet::Everyone), "everyone's stays");
        assert!(readable(&value(Dim::Setting, "special"), &q, |_| true).is_err());
        // With five at the school, all four can be read.
        let mut people = many(10, "clinic", "autism");
        people.extend(many(10, "home", "autism"));
        people.extend(many(5, "special", "autism"));
        let family = readable_sets(&quotes(&people), |_| true);
        assert!(served.iter().all(|s| family.contains(s)), "{family:?}");
    }

    #[test]
    fn two_groups_sharing_fewer_than_five_are_not_both_read() {
        // Clinic 10 and autism 10, two in both: matching the two sets'
        // quotes gives those two children's words.
        let mut people = many(2, "clinic", "autism");
        people.extend(many(8, "clinic", "speech"));
        people.extend(many(8, "home", "autism"));
        people.extend(many(12, "home", "speech"));
        let family = readable_sets(&quotes(&people), |_| true);
        assert!(
            !(family.contains(&value(Dim::Setting, "clinic"))
                && family.contains(&value(Dim::Need, "autism"))),
            "{family:?}"
        );
    }

    #[test]
    fn a_set_whose_count_reports_hide_is_never_served() {
        let mut people = many(10, "clinic", "autism");
        people.extend(many(10, "home", "autism"));
        people.extend(many(6, "special", "autism"));
        let q = quotes(&people);
        let hidden = value(Dim::Setting, "home");
        let family = readable_sets(&q, |s| *s != hidden);
        assert!(!family.contains(&hidden), "{family:?}");
        assert!(
            family.contains(&value(Dim::Setting, "clinic")),
            "{family:?}"
        );
        assert!(readable(&hidden, &q, |s| *s != hidden).is_err());
    }

    #[test]
    fn one_dimensions_sets_are_served_in_a_quarter_never_two() {
        // Clinic and autism share 6: serving both would say so, a cell of
        // the setting-by-need table its report may hide.
        let mut people = many(6, "clinic", "autism");
        people.extend(many(6, "clinic", "speech"));
        people.extend(many(7, "home", "autism"));
        people.extend(many(8, "home", "speech"));
        let family = readable_sets(&quotes(&people), |_| true);
        let dims: BTreeSet<Dim> = family
            .iter()
            .filter_map(|s| match s {
                QuoteSet::Value(d, _) => Some(*d),
                QuoteSet::Everyone => None,
            })
            .collect();
        assert_eq!(dims.len(), 1, "{family:?}");
        assert!(family.contains(&QuoteSet::Everyone), "{family:?}");
    }

    /// Everything a reader can tell apart by comparing the quotes of
    /// every set served: the groups of quotes in exactly the same sets.
    fn what_a_reader_tells_apart(q: &[PublishedQuote]) -> Vec<usize> {
        let family = readable_sets(q, |_| true);
        let mut parts: BTreeMap<Vec<bool>, usize> = BTreeMap::new();
        for x in q {
            let inside: Vec<bool> = family.iter().map(|s| s.contains(x)).collect();
            if inside.iter().any(|b| *b) {
                *parts.entry(inside).or_default() += 1;
            }
        }
        parts.into_values().collect()
    }

    proptest! {
        /// A reader with every set of quotes served, comparing them line
        /// by line (each writer's words their own), tells apart only
        /// groups of at least 5.
        #[test]
        fn comparing_every_set_served_singles_out_no_group_under_five(
            people in proptest::collection::vec((0usize..4, 0usize..3, 0usize..3), 0..80)
        ) {
            let q: Vec<PublishedQuote> = people
                .iter()
                .enumerate()
                .map(|(i, (s, a, n))| PublishedQuote {
                    dims: [
                        format!("setting{s}"),
                        ["", "primary", "secondary"][*a].to_owned(),
                        format!("need{n}"),
                        String::new(),
                        "1.0.0".to_owned(),
                    ],
                    text: Some(format!("words {i}")),
                })
                .collect();
            for part in what_a_reader_tells_apart(&q) {
                prop_assert!(part >= THRESHOLD as usize, "a group of {part} told apart");
            }
        }
    }
}
