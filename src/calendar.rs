//! Local calendar days as numbers.
//!
//! A `Day` is a day in a site's own calendar, counted as days since
//! 1970-01-01: the number the aggregator stores buckets under, the store
//! keys rows by, and queries turn into ranges. Owns the arithmetic between
//! those numbers and civil dates (months, their first and last days). It
//! does not know time zones: placing an instant in a site's calendar is
//! `sites::Site::moment`.

use jiff::civil::{Date, date};

const EPOCH: Date = date(1970, 1, 1);

/// A local calendar day: days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i32);

impl Day {
    /// The day with this number (as stored).
    pub fn new(number: i32) -> Day {
        Day(number)
    }

    /// The day of a civil date.
    pub fn of(date: Date) -> Day {
        // Whole days between two civil dates; cannot fail within jiff's range.
        Day(date.since(EPOCH).map(|span| span.get_days()).unwrap_or(0))
    }

    /// Its number: days since 1970-01-01.
    pub fn number(self) -> i32 {
        self.0
    }

    /// Its civil date; the epoch for numbers outside the calendar.
    pub fn date(self) -> Date {
        jiff::Span::new()
            .try_days(i64::from(self.0))
            .ok()
            .and_then(|span| EPOCH.checked_add(span).ok())
            .unwrap_or(EPOCH)
    }

    /// The first day of its month: the key monthly rows are grouped under.
    pub fn first_of_month(self) -> Day {
        Day::of(self.date().first_of_month())
    }

    /// The last day of its month.
    pub(crate) fn last_of_month(self) -> Day {
        Day::of(self.date().last_of_month())
    }

    /// The first day of the month `months_back` months before its month.
    pub(crate) fn first_of_month_back(self, months_back: i32) -> Day {
        let first = self.date().first_of_month();
        Day::of(
            first
                .checked_sub(jiff::Span::new().months(i64::from(months_back)))
                .unwrap_or(first),
        )
    }
}

/// The civil date, as `2026-11-23`.
impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.date().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::of(text.parse().unwrap())
    }

    #[test]
    fn day_numbers_round_trip() {
        for text in ["1970-01-01", "2024-02-29", "2026-11-23", "1969-12-31"] {
            let date: Date = text.parse().unwrap();
            assert_eq!(Day::of(date).date(), date, "{text}");
            assert_eq!(Day::of(date).to_string(), text);
        }
        assert_eq!(Day::of(date(1970, 1, 2)).number(), 1);
    }

    #[test]
    fn a_day_number_outside_the_calendar_is_the_epoch_not_a_panic() {
        assert_eq!(Day::new(i32::MIN).date(), EPOCH);
        assert_eq!(Day::new(i32::MAX).date(), EPOCH);
        assert_eq!(
            Day::new(i32::MIN + 1).last_of_month(),
            Day::of(EPOCH.last_of_month())
        );
    }

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        assert_eq!(day("2024-02-14").first_of_month(), day("2024-02-01"));
        assert_eq!(day("2024-02-14").last_of_month(), day("2024-02-29"));
        assert_eq!(day("2026-12-31").first_of_month(), day("2026-12-01"));
    }

    #[test]
    fn months_go_back_across_years() {
        assert_eq!(day("2026-02-15").first_of_month_back(11), day("2025-03-01"));
        assert_eq!(day("2026-02-15").first_of_month_back(0), day("2026-02-01"));
    }
}
