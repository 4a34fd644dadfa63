//! Promise 6: small counts are not published. Whatever is read without the
//! site's own credentials (a public site, a share link) is built from
//! published cells only, the way a statistics office publishes a table:
//!
//! - a cell is one day of one value (or of the site, or of one hour); it
//!   is published when at least k people are in it (primary suppression);
//!   a cell of "fewer than k" and a cell of nobody look the same;
//! - a day's unpublished cells are summed into "(other)", itself a cell;
//!   when the day's total minus the cells shown would leave fewer than k
//!   people, more cells are hidden until it does not (secondary
//!   suppression), so no remainder can be read off;
//! - a range's figure is the sum of its days' published cells, so what is
//!   withheld on a day stays withheld in every range that holds it;
//! - figures per visit (visits, bounce rate, views per visit, duration)
//!   need k visits of their own.
//!
//! This module holds the rules on plain counts; `published` applies them
//! to stored rows.

use super::compute::BreakdownRow;
use super::params::Metric;
use crate::store::Counts;

pub const OTHER: &str = "(other)";

/// Who is reading, and so what they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The site's own token, or its signed-in users: everything.
    Owner,
    /// Anyone else allowed to read: cells of fewer than `k` people are hidden.
    Public { k: u64 },
}

/// Whether a day's unpublished cells may be shown together as "(other)":
/// not for the hours of a day, which are a series, not a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherRow {
    Allowed,
    Never,
}

/// A day's cells as the public sees them: the named cells shown, and
/// "(other)" when it is itself large enough and gives nothing away.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FoldedDay {
    pub shown: Vec<BreakdownRow>,
    pub other: Option<Counts>,
}

/// The people in a cell: its visitors, or its visits for rows that count
/// visits only (exit pages). Pageviews sent without an identifier (privacy
/// signals) have neither, so they are nobody's and never enough.
fn people(counts: &Counts) -> i64 {
    match counts.visitors > 0 {
        true => counts.visitors,
        false => counts.visits,
    }
}

impl Audience {
    /// Whether a cell is not published to this audience: fewer than k
    /// people, or nobody (so that "few" and "none" look the same).
    pub fn withholds(self, counts: &Counts) -> bool {
        match self {
            Audience::Owner => false,
            Audience::Public { k } => u64::try_from(people(counts)).map_or(true, |n| n < k),
        }
    }

    /// A metric of a shown cell, or `None` where it would describe fewer
    /// than k visits: a row of twelve visitors and one visit would show
    /// that one visit's duration and bounce.
    pub fn metric(self, metric: Metric, counts: &Counts) -> Option<f64> {
        let value = super::compute::metric_value(metric, counts);
        match self {
            Audience::Owner => Some(value),
            Audience::Public { k } => {
                let visits = u64::try_from(counts.visits).unwrap_or(0);
                let too_few_visits = metric.is_visit_metric() && visits < k;
                (!self.withholds(counts) && !too_few_visits).then_some(value)
            }
        }
    }

    /// Whether a remainder (a day's total minus the cells shown) is a small
    /// group someone could read off: between one person and k − 1, counted
    /// as visitors or as visits. A negative remainder is overlap (one
    /// person on two pages), not a hidden group.
    fn leaves_few(self, total: &Counts, shown: &Counts) -> bool {
        let Audience::Public { k } = self else {
            return false;
        };
        let k = i64::try_from(k).unwrap_or(i64::MAX);
        let small = |left: i64| (1..k).contains(&left);
        small(total.visitors - shown.visitors) || small(total.visits - shown.visits)
    }

    /// One day's cells, judged against the day's published `total`:
    /// cells under k (and a stored value spelt "(other)") are hidden and
    /// summed into "(other)"; then, while the total minus what is shown
    /// leaves fewer than k people, "(other)" is withheld or the smallest
    /// shown cell joins it. `rows` come largest first.
    pub fn fold_day(self, rows: Vec<BreakdownRow>, total: &Counts, other: OtherRow) -> FoldedDay {
        if self == Audience::Owner {
            return FoldedDay {
                shown: rows,
                other: None,
            };
        }
        let mut hidden = Counts::default();
        let mut shown: Vec<BreakdownRow> = Vec::with_capacity(rows.len());
        for row in rows {
            if self.withholds(&row.counts) || row.value == OTHER {
                hidden += row.counts;
            } else {
                shown.push(row);
            }
        }
        let mut other_allowed = other == OtherRow::Allowed;
        loop {
            let other_shown = other_allowed && !self.withholds(&hidden);
            let mut visible = Counts::default();
            for row in &shown {
                visible += row.counts;
            }
            if other_shown {
                visible += hidden;
            }
            if !self.leaves_few(total, &visible) {
                return FoldedDay {
                    shown,
                    other: other_shown.then_some(hidden),
                };
            }
            // Shown, "(other)" already holds every hidden cell: only
            // withholding it changes the remainder.
            if other_shown {
                other_allowed = false;
                continue;
            }
            match shown.pop() {
                Some(smallest) => hidden += smallest.counts,
                None => return FoldedDay::default(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(value: &str, visitors: i64) -> BreakdownRow {
        BreakdownRow {
            value: value.to_owned(),
            counts: Counts {
                visitors,
                visits: visitors,
                pageviews: visitors * 2,
                ..Counts::default()
            },
        }
    }

    fn total(visitors: i64) -> Counts {
        row("", visitors).counts
    }

    const PUBLIC: Audience = Audience::Public { k: 10 };

    /// Folds a day and lists what is shown as (value, visitors).
    fn check(rows: Vec<BreakdownRow>, day_total: i64, expected: &[(&str, i64)]) {
        let folded = PUBLIC.fold_day(rows, &total(day_total), OtherRow::Allowed);
        let mut shown: Vec<(String, i64)> = folded
            .shown
            .iter()
            .map(|row| (row.value.clone(), row.counts.visitors))
            .collect();
        if let Some(other) = folded.other {
            shown.push((OTHER.to_owned(), other.visitors));
        }
        let expected: Vec<(String, i64)> = expected
            .iter()
            .map(|(value, visitors)| (value.to_string(), *visitors))
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn cells_under_k_are_summed_into_other_when_that_reaches_k() {
        let rows = vec![row("/a", 30), row("/b", 10), row("/c", 9), row("/d", 1)];
        check(rows, 50, &[("/a", 30), ("/b", 10), (OTHER, 10)]);
    }

    #[test]
    fn a_small_other_is_withheld_and_a_cell_joins_it_when_the_total_would_tell() {
        // Devices: everyone has one, so the total minus the rows shown is
        // exactly the hidden tablet.
        let rows = vec![row("desktop", 12), row("mobile", 10), row("tablet", 1)];
        check(rows, 23, &[("desktop", 12), (OTHER, 11)]);
    }

    #[test]
    fn a_small_other_is_dropped_when_the_rest_of_the_total_is_large() {
        // Campaigns: most visitors carry none, so the remainder is large.
        let rows = vec![row("nieuwsbrief", 12), row("krant", 2)];
        check(rows, 40, &[("nieuwsbrief", 12)]);
    }

    #[test]
    fn a_small_remainder_outside_every_row_hides_the_rows_it_would_reveal() {
        // 15 visitors, 12 with a campaign: "3 without one" must not show.
        check(vec![row("nieuwsbrief", 12), row("krant", 1)], 15, &[]);
        check(vec![row("nieuwsbrief", 12)], 15, &[]);
        check(vec![row("nieuwsbrief", 12)], 22, &[("nieuwsbrief", 12)]);
    }

    #[test]
    fn overlapping_rows_leave_no_hidden_group() {
        // Pages: one person reads several, so the rows sum past the total.
        check(
            vec![row("/a", 12), row("/b", 11)],
            14,
            &[("/a", 12), ("/b", 11)],
        );
    }

    #[test]
    fn hours_never_form_an_other_row_and_a_small_remainder_hides_more_hours() {
        let hours = vec![row("10", 20), row("11", 12), row("12", 3)];
        let folded = PUBLIC.fold_day(hours, &total(35), OtherRow::Never);
        let shown: Vec<&str> = folded.shown.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(shown, ["10"], "35 − 20 − 12 would be the hidden 3");
        assert_eq!(folded.other, None);
    }

    #[test]
    fn owners_see_everything_and_a_value_spelt_other_is_never_named() {
        let rows = vec![row("/a", 1)];
        let folded = Audience::Owner.fold_day(rows.clone(), &total(1), OtherRow::Allowed);
        assert_eq!(folded.shown, rows);
        check(vec![row(OTHER, 50), row("/x", 1)], 51, &[(OTHER, 51)]);
    }

    #[test]
    fn nobody_and_anonymous_pageviews_alone_are_withheld() {
        assert!(PUBLIC.withholds(&Counts::default()));
        let anonymous = Counts {
            pageviews: 40,
            ..Counts::default()
        };
        assert!(PUBLIC.withholds(&anonymous));
        assert!(!Audience::Owner.withholds(&Counts::default()));
    }

    #[test]
    fn exit_page_rows_are_judged_by_visits() {
        let exit = Counts {
            visits: 12,
            ..Counts::default()
        };
        assert!(!PUBLIC.withholds(&exit));
        assert!(Audience::Public { k: 13 }.withholds(&exit));
    }

    #[test]
    fn figures_per_visit_need_k_visits_of_their_own() {
        let entry = Counts {
            visitors: 12,
            visits: 1,
            bounces: 1,
            duration: 40,
            ..Counts::default()
        };
        assert_eq!(PUBLIC.metric(Metric::Visitors, &entry), Some(12.0));
        for metric in [
            Metric::Visits,
            Metric::BounceRate,
            Metric::VisitDuration,
            Metric::ViewsPerVisit,
        ] {
            assert_eq!(PUBLIC.metric(metric, &entry), None, "{metric:?}");
            assert!(Audience::Owner.metric(metric, &entry).is_some());
        }
    }
}
