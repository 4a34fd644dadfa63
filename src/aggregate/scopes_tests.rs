//! What one hit costs: the rows it moves and the credit questions it asks,
//! with and without a goal among them.

use super::*;
use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::Interaction;
use crate::ingest::hit::HitVisitor;
use crate::privacy::pii::referrer;
use crate::privacy::pii::scrubbed;
use crate::privacy::url::Campaign;
use crate::privacy::url::clean_page_path;
use crate::privacy::visitor::VisitorId;
use crate::sessions::Sessions;
use crate::sites::Moment;
use crate::store::schema::decode_key;

const DAY: i32 = 20_415;

/// A visitor from Google with a full campaign: the most rows a hit moves.
fn hit(minute: i64, page: &str, kind: HitKind) -> Hit {
    let unix = i64::from(DAY) * 86_400 + 10 * 3_600 + minute * 60;
    Hit {
        site: crate::sites::Sites::default_idx(),
        at: Moment {
            unix,
            day: DAY,
            hour: DAY * 24 + 10,
        },
        visitor: Some(HitVisitor {
            today: VisitorId::from_value(7),
            yesterday: None,
        }),
        kind,
        page_props: Vec::new(),
        interaction: Interaction::Interactive,
        page: clean_page_path(page, &[]),
        referrer: Some(referrer("google.nl", &[])),
        source: "Google".to_owned(),
        campaign: Campaign {
            source: Some("nieuwsbrief".to_owned()),
            medium: Some("email".to_owned()),
            campaign: Some("herfst".to_owned()),
        },
        country: Country::UNKNOWN,
        browser: "Firefox",
        os: "Linux",
        device: Device::Desktop,
    }
}

fn goal(minute: i64) -> Hit {
    let kind = HitKind::Event {
        name: scrubbed("Formulier verzonden", &[]),
        props: vec![(scrubbed("formulier", &[]), scrubbed("melding", &[]))],
    };
    hit(minute, "/melden", kind)
}

/// What one hit moved: every row, and the rows under the goal filter.
struct Moved {
    rows: usize,
    goal_rows: Vec<(Dim, Granularity, String, Counts)>,
    questions: usize,
}

fn apply_one(sessions: &mut Sessions, hit: &Hit) -> Moved {
    let mut questions = Vec::new();
    let mut scratch = Scratch::default();
    let observation = sessions.observe(hit);
    let dry = Observation {
        credits: CreditCheck::Record(&mut questions),
        visit: observation.visit.clone(),
    };
    apply(&mut Deltas::default(), &mut scratch, hit, dry);
    let mut deltas = Deltas::default();
    apply(&mut deltas, &mut scratch, hit, observation);
    let batch = deltas.drain_to_batch(&["gemeente.example"]);
    let goal_rows = batch
        .iter()
        .filter_map(|(key, counts)| {
            let (prefix, row) = decode_key(key).unwrap();
            (prefix.filter.0 == Dim::EventName).then_some((
                prefix.breakdown,
                prefix.granularity,
                row.value,
                *counts,
            ))
        })
        .collect();
    Moved {
        rows: batch.len(),
        goal_rows,
        questions: questions.len(),
    }
}

#[test]
fn pageviews_move_no_goal_rows_and_a_goal_moves_a_row_per_breakdown() {
    let mut sessions = Sessions::new(10, 30 * 60);
    let landing = apply_one(&mut sessions, &hit(0, "/afval", HitKind::Pageview));
    let next = apply_one(&mut sessions, &hit(1, "/melden", HitKind::Pageview));
    assert!(landing.goal_rows.is_empty() && next.goal_rows.is_empty());
    let first = apply_one(&mut sessions, &goal(2));
    // None, page, source, referrer, three utm, four fixed dimensions,
    // the entry page and the property: a day row each; and the hour.
    assert_eq!(first.goal_rows.len(), 14, "{:?}", first.goal_rows);
    let visitors = |moved: &Moved, dim: Dim| {
        moved
            .goal_rows
            .iter()
            .find(|(breakdown, granularity, ..)| {
                *breakdown == dim && *granularity == Granularity::Day
            })
            .map(|(.., value, counts)| (value.clone(), counts.visitors, counts.events))
    };
    assert_eq!(visitors(&first, Dim::Page), Some(("/melden".into(), 1, 1)));
    assert_eq!(
        visitors(&first, Dim::EntryPage),
        Some(("/afval".into(), 1, 1)),
        "the entry page of the visit the goal was sent in"
    );
    assert_eq!(visitors(&first, Dim::Source), Some(("Google".into(), 1, 1)));
    assert_eq!(
        visitors(&first, Dim::Browser),
        Some(("Firefox".into(), 1, 1))
    );
    assert!(
        first
            .goal_rows
            .iter()
            .all(|(.., counts)| counts.visits == 0 && counts.pageviews == 0 && counts.bounces == 0),
        "a goal's rows hold no visit figures"
    );
    // Sent again: the same rows, its events only.
    let again = apply_one(&mut sessions, &goal(3));
    assert_eq!(again.goal_rows.len(), 14);
    assert_eq!(visitors(&again, Dim::Page), Some(("/melden".into(), 0, 1)));
    assert_eq!(
        visitors(&again, Dim::EntryPage),
        Some(("/afval".into(), 0, 1))
    );
    // The cost: printed for the record in docs/modules.md.
    println!(
        "rows per hit: pageview {} / {}; goal event {} ({} under the goal); \
         credit questions: pageview {}, goal {}",
        landing.rows,
        next.rows,
        first.rows,
        first.goal_rows.len(),
        next.questions,
        first.questions
    );
}

#[test]
fn a_pageviews_property_moves_one_row_under_each_filter_of_its_event_part() {
    let second = |props: Vec<(&str, &str)>| {
        let mut sessions = Sessions::new(10, 30 * 60);
        apply_one(&mut sessions, &hit(0, "/afval", HitKind::Pageview));
        let mut next = hit(1, "/melden", HitKind::Pageview);
        next.page_props = props
            .into_iter()
            .map(|(key, value)| (scrubbed(key, &[]), scrubbed(value, &[])))
            .collect();
        apply_one(&mut sessions, &next)
    };
    let plain = second(Vec::new());
    let carried = second(vec![("auteur", "Jansen")]);
    // Unfiltered, and under the page, source, campaign, country and device.
    assert_eq!(carried.rows - plain.rows, 6);
    // Country and device are fixed per visitor: their test is the
    // unfiltered one's.
    assert_eq!(carried.questions - plain.questions, 4);
    assert!(carried.goal_rows.is_empty(), "a pageview is never a goal");
    println!(
        "a pageview's property: {} rows and {} credit questions more",
        carried.rows - plain.rows,
        carried.questions - plain.questions
    );
}

/// Promise 4 for engagement: what reaches the store is one row of sums
/// per page and day, with no visitor, visit or report of its own.
#[test]
fn engagement_reports_of_two_visitors_become_one_row_of_sums_per_page() {
    let mut sessions = Sessions::new(10, 1_800);
    let mut deltas = Deltas::default();
    let report = |visitor: u64, minute, depth, ms| {
        let mut report = hit(
            minute,
            "/afval",
            HitKind::Engagement(crate::ingest::beacon::Engagement {
                scroll_depth: Some(depth),
                engaged_ms: ms,
            }),
        );
        report.visitor = Some(HitVisitor {
            today: VisitorId::from_value(visitor),
            yesterday: None,
        });
        report
    };
    for visitor in [7, 8] {
        let mut view = hit(0, "/afval", HitKind::Pageview);
        view.visitor = report(visitor, 0, 0, 0).visitor;
        sessions.observe(&view);
    }
    for report in [
        report(7, 1, 60, 35_000),
        report(8, 2, 45, 50_000),
        report(7, 3, 80, 4_000),
    ] {
        let added = sessions.engage(&report).expect("the visit's own page");
        apply_engagement(&mut deltas, &report, added);
        // The report itself moves nothing else.
        let nothing = Observation {
            credits: CreditCheck::Anonymous,
            visit: None,
        };
        apply(&mut deltas, &mut Scratch::default(), &report, nothing);
    }
    let batch = deltas.drain_to_batch(&["gemeente.example"]);
    let engagement: Vec<_> = batch
        .iter()
        .filter_map(|(key, counts)| {
            let (prefix, row) = decode_key(key).unwrap();
            (prefix.breakdown == Dim::Engagement).then_some((prefix, row.value, *counts))
        })
        .collect();
    assert_eq!(engagement.len(), 1, "{engagement:?}");
    let (prefix, page, counts) = &engagement[0];
    assert_eq!(
        (prefix.filter.0, prefix.granularity, page.as_str()),
        (Dim::None, Granularity::Day, "/afval")
    );
    let sums = Counts {
        visits: 2,
        duration: 89_000,
        pageviews: 2,
        bounces: 125,
        ..Counts::default()
    };
    assert_eq!(*counts, sums);
}

/// The day rows one hit moves under a page filter broken down by source
/// and under a source filter broken down by page, as (filter value,
/// breakdown value, visitors).
fn page_and_source_rows(sessions: &mut Sessions, hit: &Hit) -> Vec<(String, String, i64)> {
    let mut deltas = Deltas::default();
    let observation = sessions.observe(hit);
    apply(&mut deltas, &mut Scratch::default(), hit, observation);
    let mut rows: Vec<_> = deltas
        .drain_to_batch(&["gemeente.example"])
        .iter()
        .filter_map(|(key, counts)| {
            let (prefix, row) = decode_key(key).unwrap();
            let pair = (prefix.filter.0, prefix.breakdown);
            (prefix.granularity == Granularity::Day
                && (pair == (Dim::Page, Dim::Source) || pair == (Dim::Source, Dim::Page)))
                .then(|| (prefix.filter.1.clone(), row.value, counts.visitors))
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_pair_is_one_credit_and_counts_the_visitor_once_in_either_order() {
    let mut sessions = Sessions::new(10, 30 * 60);
    let rows =
        |filter: &str, breakdown: &str, visitors| (filter.into(), breakdown.into(), visitors);
    assert_eq!(
        page_and_source_rows(&mut sessions, &hit(0, "/afval", HitKind::Pageview)),
        [rows("/afval", "Google", 1), rows("Google", "/afval", 1)],
        "a first hit counts its visitor under both orders of the pair"
    );
    assert_eq!(
        page_and_source_rows(&mut sessions, &hit(1, "/afval", HitKind::Pageview)),
        [rows("/afval", "Google", 0), rows("Google", "/afval", 0)],
        "and only once, in both orders"
    );
    let mut next = page_and_source_rows(&mut sessions, &hit(2, "/melden", HitKind::Pageview));
    // The visit's own figures stay under its entry page, visitors aside.
    next.retain(|(filter, breakdown, _)| filter != "/afval" && breakdown != "/afval");
    assert_eq!(
        next,
        [rows("/melden", "Google", 1), rows("Google", "/melden", 1)],
        "a new page is a new pair"
    );
    let landing = apply_one(
        &mut Sessions::new(10, 30 * 60),
        &hit(0, "/afval", HitKind::Pageview),
    );
    assert_eq!(
        landing.questions, 27,
        "a campaign's landing pageview asks 27 questions, 33 when each order of a pair was one"
    );
}
