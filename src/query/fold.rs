//! Promise 6: small counts are not published. Whatever is read without the
//! site's own credentials (a public site, a share link) has breakdown rows
//! with fewer than k visitors folded into one "(other)" row, and totals
//! and time buckets with fewer than k visitors withheld, so no single
//! visit can be read off. Applied on the server, before pagination.

use super::compute::BreakdownRow;
use crate::store::Counts;

pub const OTHER: &str = "(other)";

/// Who is reading, and so what they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The site's own token (or, later, its signed-in users): everything.
    Owner,
    /// Anyone else allowed to read: counts below `k` visitors are hidden.
    Public { k: u64 },
}

impl Audience {
    /// Whether `counts` are too small to show this audience: something
    /// happened, but to fewer than k people. Exit-page rows carry visits
    /// only, and pageviews counted without an identifier (privacy signals)
    /// carry neither, so "people" is the larger of visitors and visits, and
    /// pageviews or events with no people at all are small too. Nothing at
    /// all is shown: a zero identifies no one.
    pub fn withholds(self, counts: &Counts) -> bool {
        match self {
            Audience::Owner => false,
            Audience::Public { k } => {
                let happened = counts.visitors > 0
                    || counts.visits > 0
                    || counts.pageviews > 0
                    || counts.events > 0;
                let people = u64::try_from(counts.visitors.max(counts.visits)).unwrap_or(0);
                happened && people < k
            }
        }
    }
}

/// Rows this audience may not see by name summed into one "(other)" row,
/// which comes last. A lone small row is folded too: its label is the
/// secret, not its count.
pub fn fold(rows: Vec<BreakdownRow>, audience: Audience) -> Vec<BreakdownRow> {
    if audience == Audience::Owner {
        return rows;
    }
    let mut other = Counts::default();
    let mut folded = 0;
    let mut shown: Vec<BreakdownRow> = Vec::with_capacity(rows.len());
    for row in rows {
        if audience.withholds(&row.counts) || row.value == OTHER {
            other += row.counts;
            folded += 1;
        } else {
            shown.push(row);
        }
    }
    if folded > 0 {
        shown.push(BreakdownRow {
            value: OTHER.to_owned(),
            counts: other,
        });
    }
    shown
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

    #[test]
    fn rows_under_k_are_summed_into_other_and_the_rest_kept_in_order() {
        let rows = vec![row("/a", 30), row("/b", 10), row("/c", 9), row("/d", 1)];
        let folded = fold(rows, Audience::Public { k: 10 });
        let shown: Vec<(&str, i64)> = folded
            .iter()
            .map(|row| (row.value.as_str(), row.counts.visitors))
            .collect();
        assert_eq!(shown, [("/a", 30), ("/b", 10), ("(other)", 10)]);
        assert_eq!(folded[2].counts.pageviews, 20);
    }

    #[test]
    fn owners_see_everything_and_a_page_may_itself_be_called_other() {
        let rows = vec![row("/a", 1)];
        assert_eq!(fold(rows.clone(), Audience::Owner), rows);
        let sneaky = vec![row("(other)", 50), row("/x", 1)];
        let folded = fold(sneaky, Audience::Public { k: 10 });
        assert_eq!(folded.len(), 1, "a real row named (other) joins the fold");
        assert_eq!(folded[0].counts.visitors, 51);
    }

    #[test]
    fn nothing_is_shown_and_anonymous_pageviews_alone_are_small() {
        let public = Audience::Public { k: 10 };
        assert!(!public.withholds(&Counts::default()));
        let anonymous = Counts {
            pageviews: 40,
            ..Counts::default()
        };
        assert!(public.withholds(&anonymous));
    }

    #[test]
    fn exit_page_rows_are_judged_by_visits() {
        let exit = Counts {
            visits: 12,
            ..Counts::default()
        };
        assert!(!Audience::Public { k: 10 }.withholds(&exit));
        assert!(Audience::Public { k: 13 }.withholds(&exit));
    }
}
