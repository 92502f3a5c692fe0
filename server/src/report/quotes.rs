//! When a filter's free-text answers may be read (pure). Quotes are
//! verbatim, so two readable sets of them can be compared line by line:
//! the quotes in one and not in the other are the words of whoever is in
//! the first group and not the second. So a set of quotes is readable only
//! if it holds at least [`THRESHOLD`] and, against every other set a reader
//! could ask for (everyone, and each value of each dimension), what one
//! leaves out of the other is none or at least [`THRESHOLD`]. Sets are the
//! respondents who answered the question, counted from the tallies.

use super::suppress::THRESHOLD;

/// Another set a reader could ask for: its size, and how many it shares
/// with the one asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// Answers in the other set.
    pub other: u64,
    /// Answers in both.
    pub both: u64,
}

/// Checks that the quotes of a set of `asked` answers may be read, given
/// every other set a reader could ask for; otherwise says why, safely
/// (without a count).
pub fn readable(asked: u64, others: &[Overlap]) -> Result<(), &'static str> {
    if asked < THRESHOLD {
        return Err("fewer than 5 people answered with these filters; widen them");
    }
    let small = |n: u64| (1..THRESHOLD).contains(&n);
    for o in others.iter().filter(|o| o.other >= THRESHOLD) {
        let only_asked = asked.saturating_sub(o.both);
        let only_other = o.other.saturating_sub(o.both);
        if small(only_asked) || small(only_other) {
            return Err(
                "these answers differ from another group's by fewer than 5 people, \
                        so comparing the two would single someone out; widen the filter",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_autistic_child_elsewhere_cannot_be_isolated() {
        // need=autism: 8 quotes; setting=text-a: 7, all of them autistic.
        // Reading both would leave one child's words.
        let autism = 8;
        let text_a = Overlap { other: 7, both: 7 };
        let everyone = Overlap { other: 40, both: 8 };
        assert!(readable(autism, &[everyone, text_a]).is_err());
        assert!(
            readable(
                7,
                &[
                    Overlap { other: 40, both: 7 },
                    Overlap { other: 8, both: 7 }
                ]
            )
            .is_err()
        );
        // With five outside the school the comparison is a group.
        let everyone = Overlap {
            other: 40,
            both: 12,
        };
        assert!(readable(12, &[everyone, Overlap { other: 7, both: 7 }]).is_ok());
    }

    #[test]
    fn what_a_filter_leaves_out_of_everyone_must_be_a_group_too() {
        assert!(
            readable(
                38,
                &[Overlap {
                    other: 40,
                    both: 38
                }]
            )
            .is_err()
        );
        assert!(
            readable(
                35,
                &[Overlap {
                    other: 40,
                    both: 35
                }]
            )
            .is_ok()
        );
        assert!(readable(4, &[Overlap { other: 40, both: 4 }]).is_err());
        // A set too small to be read by itself compares with nothing.
        assert!(readable(20, &[Overlap { other: 3, both: 1 }]).is_ok());
    }
}
