//! Periods as ranges of local days.
//!
//! Days are counted as days since 1970-01-01 in the site's calendar, the
//! same numbering the aggregator stores buckets under.

use jiff::civil::{Date, date};

use crate::store::Granularity;

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

/// The date of a day number; the epoch for numbers outside the calendar.
pub fn date_of(day: i32) -> Date {
    jiff::Span::new()
        .try_days(i64::from(day))
        .ok()
        .and_then(|span| EPOCH.checked_add(span).ok())
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

/// The last day of the month containing `day`.
pub fn month_end(day: i32) -> i32 {
    day_number(date_of(day).last_of_month())
}

/// Whether a range holds a month from its first day to its last.
pub fn spans_a_whole_month(range: DateRange) -> bool {
    let first_whole = match month_key(range.first) == range.first {
        true => range.first,
        false => month_end(range.first) + 1,
    };
    month_end(first_whole) <= range.last
}

/// Where a range's rows are read: whole months that are rolled up from
/// their monthly rows, the other days from daily rows. Each part is the
/// granularity and its first and last bucket; `rolled` lists months by
/// their first day, in order.
pub fn read_plan(range: DateRange, rolled: &[i32]) -> Vec<(Granularity, i32, i32)> {
    let mut plan: Vec<(Granularity, i32, i32)> = Vec::new();
    let mut day = range.first;
    while day <= range.last {
        let end = month_end(day);
        let whole = month_key(day) == day && end <= range.last;
        let (granularity, last) = match whole && rolled.binary_search(&day).is_ok() {
            true => (Granularity::Month, day),
            false => (Granularity::Day, end.min(range.last)),
        };
        match plan.last_mut() {
            // Runs of the same kind are one scan.
            Some((kind, _, until)) if *kind == granularity => *until = last,
            _ => plan.push((granularity, day, last)),
        }
        day = end.min(range.last) + 1;
    }
    plan
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
    fn a_day_number_outside_the_calendar_is_the_epoch_not_a_panic() {
        assert_eq!(date_of(i32::MIN), EPOCH);
        assert_eq!(date_of(i32::MAX), EPOCH);
        assert_eq!(month_end(i32::MIN + 1), day_number(EPOCH.last_of_month()));
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        let range = DateRange {
            first: 10,
            last: 16,
        };
        assert_eq!(range.previous(), DateRange { first: 3, last: 9 });
    }

    fn day(text: &str) -> i32 {
        day_number(text.parse().unwrap())
    }

    #[test]
    fn whole_rolled_up_months_are_read_from_monthly_rows() {
        let range = DateRange {
            first: day("2025-12-15"),
            last: day("2026-03-10"),
        };
        let rolled = [day("2025-12-01"), day("2026-01-01"), day("2026-02-01")];
        assert_eq!(
            read_plan(range, &rolled),
            vec![
                (Granularity::Day, day("2025-12-15"), day("2025-12-31")),
                (Granularity::Month, day("2026-01-01"), day("2026-02-01")),
                (Granularity::Day, day("2026-03-01"), day("2026-03-10")),
            ]
        );
    }

    #[test]
    fn a_range_spans_a_whole_month_only_from_its_first_to_its_last_day() {
        let range = |first: &str, last: &str| DateRange {
            first: day(first),
            last: day(last),
        };
        assert!(spans_a_whole_month(range("2026-02-01", "2026-02-28")));
        assert!(spans_a_whole_month(range("2026-01-15", "2026-03-01")));
        assert!(!spans_a_whole_month(range("2026-02-01", "2026-02-27")));
        assert!(!spans_a_whole_month(range("2026-01-02", "2026-02-27")));
    }

    #[test]
    fn a_month_not_rolled_up_is_read_by_day() {
        let range = DateRange {
            first: day("2026-01-01"),
            last: day("2026-04-30"),
        };
        let rolled = [day("2026-01-01"), day("2026-03-01"), day("2026-04-01")];
        assert_eq!(
            read_plan(range, &rolled),
            vec![
                (Granularity::Month, day("2026-01-01"), day("2026-01-01")),
                (Granularity::Day, day("2026-02-01"), day("2026-02-28")),
                (Granularity::Month, day("2026-03-01"), day("2026-04-01")),
            ]
        );
        let none = read_plan(range, &[]);
        assert_eq!(none, vec![(Granularity::Day, range.first, range.last)]);
        let inside = DateRange {
            first: day("2026-01-03"),
            last: day("2026-01-20"),
        };
        assert_eq!(
            read_plan(inside, &rolled),
            vec![(Granularity::Day, inside.first, inside.last)]
        );
    }

    #[test]
    fn months_go_back_across_years() {
        assert_eq!(month_start(date(2026, 2, 15), 11), date(2025, 3, 1));
    }
}
