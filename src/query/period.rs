//! Periods as ranges of local days.
//!
//! Days are counted as days since 1970-01-01 in the site's calendar, the
//! same numbering the aggregator stores buckets under.

use jiff::civil::{Date, date};

const EPOCH: Date = date(1970, 1, 1);

/// An inclusive range of local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub first: i32,
    pub last: i32,
}

impl DateRange {
    pub fn days(&self) -> i32 {
        self.last - self.first + 1
    }

    /// The range of the same length just before this one.
    pub fn previous(&self) -> DateRange {
        DateRange {
            first: self.first - self.days(),
            last: self.first - 1,
        }
    }
}

pub fn day_number(day: Date) -> i32 {
    // Whole days between two civil dates; cannot fail within jiff's range.
    day.since(EPOCH).map(|span| span.get_days()).unwrap_or(0)
}

pub fn date_of(day: i32) -> Date {
    EPOCH
        .checked_add(jiff::Span::new().days(i64::from(day)))
        .unwrap_or(EPOCH)
}

/// The first day of the month `months_back` months before `day`'s month.
pub fn month_start(day: Date, months_back: i32) -> Date {
    let first = day.first_of_month();
    first
        .checked_sub(jiff::Span::new().months(i64::from(months_back)))
        .unwrap_or(first)
}

/// Days since epoch at which the month containing `day` starts, for grouping.
pub fn month_key(day: i32) -> i32 {
    day_number(date_of(day).first_of_month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        for text in ["1970-01-01", "2024-02-29", "2026-11-23", "1969-12-31"] {
            let day: Date = text.parse().unwrap();
            assert_eq!(date_of(day_number(day)), day, "{text}");
        }
        assert_eq!(day_number(date(1970, 1, 2)), 1);
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        let range = DateRange {
            first: 10,
            last: 16,
        };
        assert_eq!(range.previous(), DateRange { first: 3, last: 9 });
    }

    #[test]
    fn months_go_back_across_years() {
        assert_eq!(month_start(date(2026, 2, 15), 11), date(2025, 3, 1));
    }
}
