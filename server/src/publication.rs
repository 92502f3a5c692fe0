//! When figures are published, and which month a response counts in (pure).
//!
//! A report read today and read again tomorrow must not show where the one
//! response that arrived in between went (a count moving from 8 to 9). So
//! leaders see only **closed months**: a month is published
//! [`PUBLISH_AFTER_DAYS`] days after it ends (November on 8 December), and
//! from then on its figures never change. Storage adds up a month's live
//! tallies into the published tallies once, when the first read after its
//! publication date asks for it (`Documents::publish`), and every leader
//! read comes from them; the live tallies go on agreeing with the stored
//! responses.
//!
//! A response counts in the month it was captured, unless that month was
//! already published when the response first arrived to be counted (a
//! tablet syncing in March what it captured in January): then it counts in
//! the month it arrived ([`counted_month`]), so January's published figures
//! stay as they were and the late response is published with March's. A
//! month from the future (a device's clock ahead of the server's) is the
//! arrival month too. Once a response counts in a month it stays there:
//! an edit, or an erasure, after that month is published changes the
//! stored response and the live tallies, never a published figure.

use time::{Date, Month, OffsetDateTime};

use crate::report::suppress::THRESHOLD;

/// Days after a month ends before it is published: time for tablets
/// visited at the end of the month to sync.
pub const PUBLISH_AFTER_DAYS: u8 = 7;

/// The month index (months since year 0) of `YYYY-MM`; `None` if it is
/// not a month. Every month arithmetic of reports and publication goes
/// through these indices.
pub fn month_index(m: &str) -> Option<i64> {
    let b = m.as_bytes();
    if b.len() != 7 || b[4] != b'-' || !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
        return None;
    }
    let y: i64 = m[..4].parse().ok()?;
    let mo: i64 = m[5..].parse().ok()?;
    (1..=12).contains(&mo).then_some(y * 12 + mo - 1)
}

/// `YYYY-MM` of a month index.
pub fn month_name(i: i64) -> String {
    format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)
}

/// `YYYY-Qn` of a month index.
pub fn quarter_of(i: i64) -> String {
    format!("{:04}-Q{}", i.div_euclid(12), i.rem_euclid(12) / 3 + 1)
}

/// The index of the first month of month `i`'s quarter.
pub fn quarter_start(i: i64) -> i64 {
    i - i.rem_euclid(12) % 3
}

/// The month after `YYYY-MM` (`None` if it is not a month).
pub fn next_month(m: &str) -> Option<String> {
    month_index(m).map(|i| month_name(i + 1))
}

fn today(now_ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date()
}

/// The last month published at `now_ms`: every month up to it, inclusive,
/// is published.
pub fn published_through(now_ms: i64) -> String {
    let d = today(now_ms);
    let this = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1;
    // Back one month, or two before the publication day.
    let back = if d.day() > PUBLISH_AFTER_DAYS { 1 } else { 2 };
    month_name(this - back)
}

/// The day a month is published (`YYYY-MM-DD`), `None` if it is not a
/// month.
pub fn publication_day(m: &str) -> Option<String> {
    let next = month_index(m)? + 1;
    let d = Date::from_calendar_date(
        i32::try_from(next.div_euclid(12)).ok()?,
        Month::try_from(u8::try_from(next.rem_euclid(12) + 1).ok()?).ok()?,
        PUBLISH_AFTER_DAYS.saturating_add(1),
    )
    .ok()?;
    Some(d.to_string())
}

/// The month a response counts in, when it is written to storage.
///
/// - `earlier`: the month it already counts in (it was counted before): it
///   stays there.
/// - otherwise `captured` (its month of capture), unless that month is
///   after `arrived` (the month it reaches the server) or is already
///   published (at or before `published`): then `arrived`, or the month
///   after `published` if that is later (a clock set back). An unknown
///   arrival (`""`) is taken as the month of capture.
pub fn counted_month(
    earlier: Option<&str>,
    captured: &str,
    arrived: &str,
    published: Option<&str>,
) -> String {
    if let Some(m) = earlier {
        return m.to_owned();
    }
    let arrived = if arrived.is_empty() {
        captured
    } else {
        arrived
    };
    let is_published = |m: &str| published.is_some_and(|p| m <= p);
    if captured <= arrived && !is_published(captured) {
        return captured.to_owned();
    }
    match published.and_then(next_month) {
        Some(open) if open.as_str() > arrived => open,
        _ => arrived.to_owned(),
    }
}

/// The first month a number given to a question is listed on its own in
/// reports, given how many gave it in each month (`by_month`, month
/// indices): the start of the quarter after the one in which [`THRESHOLD`]
/// had given it, once that month is published (at or before `published`,
/// an index); `None` while it is not. Listing a value says that someone
/// gave it, so a value fewer than 5 gave is counted with the others
/// ("other values"); the months already published keep it there, so no
/// published count changes when it is listed, and each quarter is the sum
/// of its months. (Not from the month it reaches 5: whether it is listed
/// would then depend on that month's own count, which a reader who saw it
/// unlisted the month before could bound.)
pub fn listed_from(
    by_month: impl IntoIterator<Item = (i64, i64)>,
    published: Option<i64>,
) -> Option<i64> {
    let from = quarter_start(reached(by_month)?) + 3;
    published.is_some_and(|p| from <= p).then_some(from)
}

/// The month (index) by whose end [`THRESHOLD`] had given a value, given
/// how many gave it in each month (any order); `None` if they never did.
/// When a number ([`listed_from`]) and a group (`report::listed_since`)
/// are listed both start here.
pub fn reached(by_month: impl IntoIterator<Item = (i64, i64)>) -> Option<i64> {
    let mut months: Vec<(i64, i64)> = by_month.into_iter().collect();
    months.sort_unstable();
    let mut sum = 0;
    months.into_iter().find_map(|(m, n)| {
        sum += n;
        (sum >= THRESHOLD.cast_signed()).then_some(m)
    })
}

/// The complete quarter quotes are read for: `asked` (`YYYY-Qn`), or the
/// latest whose months are all published (up to `published`); as (name,
/// first month, last month). Free text is read a whole published quarter
/// at a time: a set of quotes that grew as months were published would
/// show the newest month's quotes by difference.
pub fn quote_quarter(
    asked: Option<&str>,
    published: Option<&str>,
) -> Result<(String, String, String), String> {
    // The first month of the quarter ending at or before `published`.
    let latest = published.and_then(month_index).map(|p| {
        let start = quarter_start(p);
        if p - start == 2 { start } else { start - 3 }
    });
    let first = match asked {
        None => latest.ok_or_else(|| "no quarter is published yet".to_owned())?,
        Some(a) => {
            let first = a
                .split_once("-Q")
                .filter(|(y, q)| {
                    y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) && q.len() == 1
                })
                .and_then(|(y, q)| Some((y.parse::<i64>().ok()?, q.parse::<i64>().ok()?)))
                .filter(|(_, q)| (1..=4).contains(q))
                .map(|(y, q)| y * 12 + (q - 1) * 3)
                .ok_or_else(|| format!("'{a}' is not a quarter (YYYY-Qn)"))?;
            if latest.is_none_or(|l| first > l) {
                return Err(format!("{a} is not published yet"));
            }
            first
        }
    };
    Ok((quarter_of(first), month_name(first), month_name(first + 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> i64 {
        let d = Date::parse(
            date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .expect("date");
        d.midnight().assume_utc().unix_timestamp() * 1000
    }

    #[test]
    fn a_month_is_published_seven_days_after_it_ends() {
        assert_eq!(published_through(at("2026-12-07")), "2026-10");
        assert_eq!(published_through(at("2026-12-08")), "2026-11");
        assert_eq!(published_through(at("2027-01-03")), "2026-11");
        assert_eq!(published_through(at("2027-01-08")), "2026-12");
        assert_eq!(published_through(at("2027-02-01")), "2026-12");
        assert_eq!(publication_day("2026-11").as_deref(), Some("2026-12-08"));
        assert_eq!(publication_day("2026-12").as_deref(), Some("2027-01-08"));
        assert_eq!(publication_day("2026-13"), None);
        // The day a month is published is the first day it reads as
        // published.
        for m in ["2026-01", "2026-02", "2026-12", "2028-02"] {
            let day = publication_day(m).expect("day");
            assert_eq!(published_through(at(&day)), m);
            assert!(published_through(at(&day) - 1).as_str() < m);
        }
    }

    #[test]
    fn a_late_response_counts_in_the_month_it_arrives_and_stays_there() {
        // On time.
        assert_eq!(
            counted_month(None, "2026-01", "2026-02", Some("2025-12")),
            "2026-01"
        );
        // Late: January was published before it arrived.
        assert_eq!(
            counted_month(None, "2026-01", "2026-03", Some("2026-01")),
            "2026-03"
        );
        // Nothing published yet.
        assert_eq!(counted_month(None, "2026-01", "2026-03", None), "2026-01");
        // A clock ahead of the server's.
        assert_eq!(counted_month(None, "2027-05", "2026-03", None), "2026-03");
        // A server clock set back behind what is published.
        assert_eq!(
            counted_month(None, "2026-01", "2026-01", Some("2026-02")),
            "2026-03"
        );
        // Already counted: stays, published or not.
        assert_eq!(
            counted_month(Some("2026-01"), "2026-01", "2026-06", Some("2026-04")),
            "2026-01"
        );
    }

    #[test]
    fn quotes_are_read_a_whole_published_quarter_at_a_time() {
        let q = |a: Option<&str>, p: Option<&str>| quote_quarter(a, p);
        let got = |n: &str, f: &str, l: &str| Ok((n.to_owned(), f.to_owned(), l.to_owned()));
        assert_eq!(
            q(None, Some("2026-12")),
            got("2026-Q4", "2026-10", "2026-12")
        );
        assert_eq!(
            q(None, Some("2026-11")),
            got("2026-Q3", "2026-07", "2026-09")
        );
        assert_eq!(
            q(None, Some("2026-02")),
            got("2025-Q4", "2025-10", "2025-12")
        );
        assert_eq!(
            q(Some("2026-Q1"), Some("2026-11")),
            got("2026-Q1", "2026-01", "2026-03")
        );
        assert!(q(Some("2026-Q4"), Some("2026-11")).is_err(), "not complete");
        assert!(q(Some("2026-Q5"), Some("2026-12")).is_err());
        assert!(q(Some("2026-3"), Some("2026-12")).is_err());
        assert!(q(None, None).is_err());
    }

    #[test]
    fn months_step_over_years() {
        assert_eq!(next_month("2026-12").as_deref(), Some("2027-01"));
        assert_eq!(next_month("2026-02").as_deref(), Some("2026-03"));
        assert_eq!(next_month("nope"), None);
    }

    #[test]
    fn a_number_is_listed_from_the_quarter_after_five_gave_it_once_published() {
        let m = |s: &str| month_index(s).expect("month");
        // 3 in February, 2 in May: five by May, so listed from July.
        let given = [(m("2026-05"), 2), (m("2026-02"), 3)];
        assert_eq!(
            listed_from(given, Some(m("2026-06"))),
            None,
            "July not published"
        );
        assert_eq!(listed_from(given, Some(m("2026-07"))), Some(m("2026-07")));
        assert_eq!(listed_from(given, Some(m("2027-01"))), Some(m("2026-07")));
        assert_eq!(listed_from([(m("2026-02"), 4)], Some(m("2027-01"))), None);
        assert_eq!(listed_from(given, None), None);
    }
}
