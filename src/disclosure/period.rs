//! Lengths of time as people say them ("1 dag", "25 maanden", "2 jaar"),
//! for retention periods on the privacy page. The exact number of days
//! stays in the page's JSON; this is only how it reads.

/// A number of days in the largest unit it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Span {
    Days(u32),
    Months(u32),
    Years(u32),
}

/// The average Gregorian month and year, in days.
const MONTH: f64 = 365.2425 / 12.0;
const YEAR: f64 = 365.2425;
/// Below two months, days read better than months.
const MONTHS_FROM: u32 = 60;

impl Span {
    /// Years or months when `days` is within a day of a whole number of
    /// them (calendar months and years differ by a day or two anyway),
    /// else days.
    pub(super) fn of_days(days: u32) -> Span {
        let whole = |unit: f64| {
            let count = (f64::from(days) / unit).round();
            ((f64::from(days) - count * unit).abs() <= 1.0).then_some(count as u32)
        };
        if days < MONTHS_FROM {
            return Span::Days(days);
        }
        if let Some(years) = whole(YEAR).filter(|years| *years >= 1) {
            return Span::Years(years);
        }
        match whole(MONTH) {
            Some(months) => Span::Months(months),
            None => Span::Days(days),
        }
    }

    /// The language files' key for this span, and its number.
    pub(super) fn key(self) -> (&'static str, u32) {
        match self {
            Span::Days(1) => ("day_one", 1),
            Span::Days(n) => ("day_many", n),
            Span::Months(1) => ("month_one", 1),
            Span::Months(n) => ("month_many", n),
            Span::Years(1) => ("year_one", 1),
            Span::Years(n) => ("year_many", n),
        }
    }
}

/// The language files' key for a number of minutes, and its number: whole
/// hours as hours.
pub(super) fn minutes_key(minutes: u32) -> (&'static str, u32) {
    match minutes {
        1 => ("minute_one", 1),
        60 => ("hour_one", 1),
        n if n > 0 && n % 60 == 0 => ("hour_many", n / 60),
        n => ("minute_many", n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(days: u32, expected: Span) {
        assert_eq!(Span::of_days(days), expected, "{days} days");
    }

    #[test]
    fn days_read_as_the_largest_unit_they_fill() {
        check(1, Span::Days(1));
        check(30, Span::Days(30));
        check(59, Span::Days(59));
        check(61, Span::Months(2));
        check(90, Span::Days(90));
        check(91, Span::Months(3));
        check(182, Span::Months(6));
        check(200, Span::Days(200));
        check(364, Span::Days(364));
        check(365, Span::Years(1));
        check(366, Span::Years(1));
        check(400, Span::Days(400));
        check(548, Span::Months(18));
        check(730, Span::Years(2));
        check(760, Span::Months(25));
        check(1095, Span::Years(3));
        check(36_525, Span::Years(100));
    }

    #[test]
    fn one_takes_the_singular() {
        assert_eq!(Span::Days(1).key(), ("day_one", 1));
        assert_eq!(Span::Days(2).key(), ("day_many", 2));
        assert_eq!(Span::Months(25).key(), ("month_many", 25));
        assert_eq!(Span::Years(1).key(), ("year_one", 1));
        assert_eq!(minutes_key(30), ("minute_many", 30));
        assert_eq!(minutes_key(60), ("hour_one", 1));
        assert_eq!(minutes_key(120), ("hour_many", 2));
        assert_eq!(minutes_key(1), ("minute_one", 1));
    }
}
