//! Periods as ranges of local days.
//!
//! Days are `calendar::Day` numbers (days since 1970-01-01 in the site's
//! calendar), the same numbering the aggregator stores buckets under.

use crate::calendar::Day;
use crate::store::Granularity;

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

/// A stretch of local time in whole hours: from hour `from` up to, not
/// including, hour `until` (hours since 1970-01-01T00 local). It always
/// begins at a midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub from: i32,
    pub until: i32,
}

impl Stretch {
    fn whole(range: DateRange) -> Stretch {
        Stretch {
            from: range.first * 24,
            until: (range.last + 1) * 24,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.until <= self.from
    }

    /// The whole days in it, read from daily rows.
    pub(crate) fn whole_days(&self) -> Option<DateRange> {
        let range = DateRange {
            first: self.from.div_euclid(24),
            last: self.until.div_euclid(24) - 1,
        };
        (range.last >= range.first).then_some(range)
    }

    /// The hours after its whole days (part of one day), read from hourly
    /// rows: the first and the last hour.
    pub(crate) fn hours_left(&self) -> Option<(i32, i32)> {
        let first = self.until.div_euclid(24) * 24;
        (!self.is_empty() && first < self.until).then_some((first.max(self.from), self.until - 1))
    }
}

/// What `compare=previous_period` sets side by side: the period, and the
/// range of the same number of days just before it, each up to the same
/// elapsed time. A finished period is compared whole. A running one (it
/// holds today) is cut at the last whole hour before now, and the
/// previous one at the same local time of its last day: today until
/// 14:00 against yesterday until 14:00, a running month of 23 days
/// against the 23 days before it. The running hour is left out on both
/// sides, since counts are stored by the hour: the comparison is exact,
/// and can be checked against the hourly series.
pub(crate) fn compared(range: DateRange, now_hour: i32) -> (Stretch, Stretch) {
    let today = now_hour.div_euclid(24);
    if range.last < today {
        return (Stretch::whole(range), Stretch::whole(range.previous()));
    }
    let elapsed = (now_hour - range.first * 24).max(0);
    let trimmed = DateRange {
        first: range.first,
        last: today.max(range.first),
    };
    let previous = trimmed.previous();
    let stretch = |first: i32| Stretch {
        from: first * 24,
        until: first * 24 + elapsed,
    };
    (stretch(range.first), stretch(previous.first))
}

/// Whether a range holds a month from its first day to its last.
pub(crate) fn spans_a_whole_month(range: DateRange) -> bool {
    let first = Day::new(range.first);
    let first_whole = match first.first_of_month() == first {
        true => range.first,
        false => first.last_of_month().number() + 1,
    };
    Day::new(first_whole).last_of_month().number() <= range.last
}

/// Where a range's rows are read: whole months that are rolled up from
/// their monthly rows, the other days from daily rows. Each part is the
/// granularity and its first and last bucket; `rolled` lists months by
/// their first day, in order.
pub(crate) fn read_plan(range: DateRange, rolled: &[i32]) -> Vec<(Granularity, i32, i32)> {
    let mut plan: Vec<(Granularity, i32, i32)> = Vec::new();
    let mut day = range.first;
    while day <= range.last {
        let end = Day::new(day).last_of_month().number();
        let whole = Day::new(day).first_of_month().number() == day && end <= range.last;
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
    fn the_previous_period_has_the_same_length() {
        let range = DateRange {
            first: 10,
            last: 16,
        };
        assert_eq!(range.previous(), DateRange { first: 3, last: 9 });
    }

    fn day(text: &str) -> i32 {
        Day::of(text.parse().unwrap()).number()
    }

    /// A stretch as local times, for reading.
    fn times(stretch: Stretch) -> (String, String) {
        let at = |hour: i32| {
            format!(
                "{} {:02}",
                Day::new(hour.div_euclid(24)),
                hour.rem_euclid(24)
            )
        };
        (at(stretch.from), at(stretch.until))
    }

    fn check_compared(range: (&str, &str), now: (&str, i32), expected: [(&str, &str); 2]) {
        let range = DateRange {
            first: day(range.0),
            last: day(range.1),
        };
        let (current, previous) = compared(range, day(now.0) * 24 + now.1);
        let owned = |(a, b): (&str, &str)| (a.to_owned(), b.to_owned());
        assert_eq!(
            [times(current), times(previous)],
            expected.map(owned),
            "{range:?} at {now:?}"
        );
    }

    #[test]
    fn a_running_period_is_compared_up_to_the_same_local_hour() {
        // Today at 02:50: today until 02:00 against yesterday until 02:00.
        check_compared(
            ("2026-11-23", "2026-11-23"),
            ("2026-11-23", 2),
            [
                ("2026-11-23 00", "2026-11-23 02"),
                ("2026-11-22 00", "2026-11-22 02"),
            ],
        );
        // Seven days up to today at 14:xx.
        check_compared(
            ("2026-11-17", "2026-11-23"),
            ("2026-11-23", 14),
            [
                ("2026-11-17 00", "2026-11-23 14"),
                ("2026-11-10 00", "2026-11-16 14"),
            ],
        );
        // A month on its 23rd day: the 23 days before it.
        check_compared(
            ("2026-11-01", "2026-11-30"),
            ("2026-11-23", 14),
            [
                ("2026-11-01 00", "2026-11-23 14"),
                ("2026-10-09 00", "2026-10-31 14"),
            ],
        );
        // In the first hour of a day nothing whole has passed yet.
        let (current, previous) = compared(
            DateRange {
                first: day("2026-11-23"),
                last: day("2026-11-23"),
            },
            day("2026-11-23") * 24,
        );
        assert!(current.is_empty() && previous.is_empty());
    }

    #[test]
    fn a_finished_period_is_compared_whole() {
        check_compared(
            ("2026-11-16", "2026-11-22"),
            ("2026-11-23", 14),
            [
                ("2026-11-16 00", "2026-11-23 00"),
                ("2026-11-09 00", "2026-11-16 00"),
            ],
        );
    }

    #[test]
    fn a_stretch_is_whole_days_then_the_hours_of_one_day() {
        let stretch = Stretch {
            from: day("2026-11-17") * 24,
            until: day("2026-11-23") * 24 + 14,
        };
        assert_eq!(
            stretch.whole_days(),
            Some(DateRange {
                first: day("2026-11-17"),
                last: day("2026-11-22")
            })
        );
        let today = day("2026-11-23") * 24;
        assert_eq!(stretch.hours_left(), Some((today, today + 13)));
        let one_day = Stretch {
            from: today,
            until: today + 24,
        };
        assert_eq!(one_day.hours_left(), None);
        let two_hours = Stretch {
            from: today,
            until: today + 2,
        };
        assert_eq!(
            (two_hours.whole_days(), two_hours.hours_left()),
            (None, Some((today, today + 1)))
        );
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
}
