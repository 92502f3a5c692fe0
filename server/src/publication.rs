//! When figures are published, and which month a response counts in (pure).
//!
//! A report read today and read again tomorrow must not show where the one
//! response that arrived in between went (a count moving from 8 to 9). So
//! leaders see only **closed months**: a month is published
//! [`PUBLISH_AFTER_DAYS`] days after it ends (November on 8 December), and
//! from then on its figures never change. Storage copies a month's tallies
//! into the published tallies once, when the first read after its
//! publication date asks for it (`Documents::publish`), and every leader
//! read comes from that copy; the live tallies go on agreeing with the
//! stored responses.
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

/// Days after a month ends before it is published: time for tablets
/// visited at the end of the month to sync.
pub const PUBLISH_AFTER_DAYS: u8 = 7;

/// `YYYY-MM` of a month, from a year and month.
fn name(year: i32, month: u8) -> String {
    format!("{year:04}-{month:02}")
}

/// The month after `YYYY-MM` (`None` if it is not a month).
pub fn next_month(m: &str) -> Option<String> {
    let (y, mo) = parse(m)?;
    Some(if mo == 12 {
        name(y + 1, 1)
    } else {
        name(y, mo + 1)
    })
}

fn parse(m: &str) -> Option<(i32, u8)> {
    let y: i32 = m.get(..4)?.parse().ok()?;
    let mo: u8 = m.get(5..7)?.parse().ok()?;
    (m.len() == 7 && m.as_bytes()[4] == b'-' && (1..=12).contains(&mo)).then_some((y, mo))
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
    // Back one month, or two before the publication day.
    let back = if d.day() > PUBLISH_AFTER_DAYS { 1 } else { 2 };
    let mut y = d.year();
    let mut m = i32::from(u8::from(d.month())) - back;
    if m < 1 {
        m += 12;
        y -= 1;
    }
    name(y, u8::try_from(m).unwrap_or(1))
}

/// The day a month is published (`YYYY-MM-DD`), `None` if it is not a
/// month.
pub fn publication_day(m: &str) -> Option<String> {
    let (y, mo) = parse(&next_month(m)?)?;
    let d = Date::from_calendar_date(
        y,
        Month::try_from(mo).ok()?,
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
    fn months_step_over_years() {
        assert_eq!(next_month("2026-12").as_deref(), Some("2027-01"));
        assert_eq!(next_month("2026-02").as_deref(), Some("2026-03"));
        assert_eq!(next_month("nope"), None);
    }
}
