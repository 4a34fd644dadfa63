//! Promise 8: small counts are not published. Whatever is read without the
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
//! - a cell's visit part (visits, and so bounce rate, views per visit,
//!   duration) is a cell of its own: shown with at least k visits, and
//!   hidden further when the day's visits minus those shown would leave
//!   fewer than k.
//!
//! This module holds the rules on plain counts; `published` applies them
//! to stored rows.

use super::params::Metric;
use super::rows::BreakdownRow;
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
pub(crate) enum OtherRow {
    Allowed,
    Never,
}

/// A day's cells as the public sees them: the named cells shown, and
/// "(other)" when it is itself large enough and gives nothing away.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct FoldedDay {
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
    /// that one visit's duration and bounce. `base` is the visitors a
    /// conversion rate divides by (`None`: no rate can be given), read by
    /// the same audience, so a rate is a quotient of two published figures.
    pub fn metric(self, metric: Metric, counts: &Counts, base: Option<i64>) -> Option<f64> {
        if metric == Metric::ConversionRate && base.is_none() {
            return None;
        }
        let value = super::rows::metric_value(metric, counts, base.unwrap_or(0));
        match self {
            Audience::Owner => Some(value),
            Audience::Public { k } => {
                let visits = u64::try_from(counts.visits).unwrap_or(0);
                let too_few_visits = metric.is_visit_metric() && visits < k;
                (!self.withholds(counts) && !too_few_visits).then_some(value)
            }
        }
    }

    /// Whether a remainder (a day's total minus what is shown) is a small
    /// group someone could read off: between one and k − 1. A negative
    /// remainder is overlap (one person on two pages), not a hidden group.
    fn small(self, left: i64) -> bool {
        let Audience::Public { k } = self else {
            return false;
        };
        (1..i64::try_from(k).unwrap_or(i64::MAX)).contains(&left)
    }

    /// A day's total with its visit part withheld when it holds fewer
    /// than k visits, so that a range sums only published visit cells.
    pub(crate) fn publish_visits(self, counts: Counts) -> Counts {
        match self.small(counts.visits) {
            true => without_visits(counts),
            false => counts,
        }
    }

    /// One day's cells, judged against the day's published `total`:
    /// cells under k (and a stored value spelt "(other)") are hidden and
    /// summed into "(other)"; a shown cell's visit part (visits, bounces,
    /// duration) is itself a cell and withheld under k visits. Then, while
    /// the total minus what is shown leaves a small group of people or of
    /// visits, "(other)" is withheld or the smallest cell (or visit part)
    /// joins the hidden ones. `rows` come largest first.
    pub(crate) fn fold_day(
        self,
        rows: Vec<BreakdownRow>,
        total: &Counts,
        other: OtherRow,
    ) -> FoldedDay {
        if self == Audience::Owner {
            return FoldedDay {
                shown: rows,
                other: None,
            };
        }
        let mut table = Table {
            shown: Vec::with_capacity(rows.len()),
            hidden: Counts::default(),
            other_allowed: other == OtherRow::Allowed,
            other_visits_allowed: true,
        };
        for row in rows {
            if self.withholds(&row.counts) || row.value == OTHER {
                table.hidden += row.counts;
            } else {
                let visits = !self.small(row.counts.visits);
                table.shown.push((row, visits));
            }
        }
        loop {
            let visible = table.visible(self);
            if self.small(total.visitors - visible.visitors) {
                if !table.hide_other(self) && !table.hide_smallest_row() {
                    return FoldedDay::default();
                }
            } else if self.small(total.visits - visible.visits) {
                if !table.hide_other_visits(self) && !table.hide_smallest_visits() {
                    // Nothing of the day's visits is shown: the remainder
                    // is the day's own visit cell, published by its rule.
                    return table.folded(self);
                }
            } else {
                return table.folded(self);
            }
        }
    }
}

/// Counts without their visit part.
pub fn without_visits(counts: Counts) -> Counts {
    Counts {
        visits: 0,
        bounces: 0,
        duration: 0,
        ..counts
    }
}

/// A day's cells while they are folded: the rows shown (each with
/// whether its visit part is shown), and the hidden rows' sum.
struct Table {
    shown: Vec<(BreakdownRow, bool)>,
    hidden: Counts,
    other_allowed: bool,
    other_visits_allowed: bool,
}

impl Table {
    fn other_shown(&self, audience: Audience) -> bool {
        self.other_allowed && !audience.withholds(&self.hidden)
    }

    fn other_visits_shown(&self, audience: Audience) -> bool {
        self.other_shown(audience)
            && self.other_visits_allowed
            && !audience.small(self.hidden.visits)
    }

    /// "(other)" as shown, if it is.
    fn other(&self, audience: Audience) -> Option<Counts> {
        let other = self.other_shown(audience).then_some(self.hidden)?;
        Some(match self.other_visits_shown(audience) {
            true => other,
            false => without_visits(other),
        })
    }

    /// The sum of everything shown.
    fn visible(&self, audience: Audience) -> Counts {
        let mut visible = self.other(audience).unwrap_or_default();
        for (row, visits) in &self.shown {
            visible += match visits {
                true => row.counts,
                false => without_visits(row.counts),
            };
        }
        visible
    }

    /// Withholds "(other)" if it is shown; a withheld "(other)" may come
    /// back once more rows join it and it is large enough.
    fn hide_other(&mut self, audience: Audience) -> bool {
        let shown = self.other_shown(audience);
        if shown {
            self.other_allowed = false;
        }
        shown
    }

    /// The smallest shown row joins the hidden ones.
    fn hide_smallest_row(&mut self) -> bool {
        self.shown
            .pop()
            .map(|(row, _)| self.hidden += row.counts)
            .is_some()
    }

    fn hide_other_visits(&mut self, audience: Audience) -> bool {
        let shown = self.other_visits_shown(audience) && self.hidden.visits > 0;
        if shown {
            self.other_visits_allowed = false;
        }
        shown
    }

    /// The smallest visit part shown is withheld; a row that counts
    /// nothing but visits (exit pages) joins the hidden rows whole.
    fn hide_smallest_visits(&mut self) -> bool {
        let smallest = self
            .shown
            .iter()
            .enumerate()
            .filter(|(_, (row, visits))| *visits && row.counts.visits > 0)
            .min_by_key(|(_, (row, _))| row.counts.visits)
            .map(|(at, _)| at);
        let Some(at) = smallest else { return false };
        if self.shown[at].0.counts.visitors > 0 {
            self.shown[at].1 = false;
        } else {
            let (row, _) = self.shown.remove(at);
            self.hidden += row.counts;
        }
        true
    }

    fn folded(self, audience: Audience) -> FoldedDay {
        let other = self.other(audience);
        let shown = self
            .shown
            .into_iter()
            .map(|(row, visits)| match visits {
                true => row,
                false => BreakdownRow {
                    counts: without_visits(row.counts),
                    ..row
                },
            })
            .collect();
        FoldedDay { shown, other }
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
    fn a_visit_part_under_k_is_withheld_and_so_is_the_one_that_would_tell_it() {
        // Eleven enter on / and go on to /x; one enters on /x.
        let home = row("/", 11);
        let mut x = row("/x", 12);
        x.counts.visits = 1;
        x.counts.bounces = 1;
        let folded = PUBLIC.fold_day(vec![x, home], &total(12), OtherRow::Allowed);
        let shown: Vec<(&str, i64, i64)> = folded
            .shown
            .iter()
            .map(|row| (row.value.as_str(), row.counts.visitors, row.counts.visits))
            .collect();
        assert_eq!(
            shown,
            [("/x", 12, 0), ("/", 11, 0)],
            "12 − 11 would be /x's 1"
        );
        assert_eq!(folded.shown[0].counts.bounces, 0);
        assert_eq!(PUBLIC.publish_visits(total(9)).visits, 0);
        assert_eq!(PUBLIC.publish_visits(total(10)).visits, 10);
    }

    #[test]
    fn exit_pages_leave_no_small_group_of_visits() {
        let exit = |value: &str, visits: i64| BreakdownRow {
            value: value.to_owned(),
            counts: Counts {
                visits,
                ..Counts::default()
            },
        };
        let rows = vec![exit("/a", 20), exit("/b", 12), exit("/c", 3)];
        let folded = PUBLIC.fold_day(rows, &total(35), OtherRow::Allowed);
        let shown: Vec<&str> = folded.shown.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(shown, ["/a"], "35 − 20 − 12 would be /c's 3");
        assert_eq!(folded.other.map(|other| other.visits), Some(15));
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
        assert_eq!(PUBLIC.metric(Metric::Visitors, &entry, None), Some(12.0));
        for metric in [
            Metric::Visits,
            Metric::BounceRate,
            Metric::VisitDuration,
            Metric::ViewsPerVisit,
        ] {
            assert_eq!(PUBLIC.metric(metric, &entry, None), None, "{metric:?}");
            assert!(Audience::Owner.metric(metric, &entry, None).is_some());
        }
    }
}
