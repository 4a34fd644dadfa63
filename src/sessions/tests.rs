use super::credits::MAX_PER_VISITOR;
use super::*;
use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::Interaction;
use crate::ingest::hit::{HitKind, HitVisitor};
use crate::privacy::pii::scrubbed;
use crate::privacy::url::Campaign;
use crate::privacy::url::clean_page_path;
use crate::privacy::visitor::VisitorId;

const MINUTE: i64 = 60;

fn moment(unix: i64) -> Moment {
    Moment {
        unix,
        day: unix.div_euclid(86_400) as i32,
        hour: unix.div_euclid(3_600) as i32,
    }
}

fn hit(visitor: u64, unix: i64, page: &str, kind: HitKind) -> Hit {
    Hit {
        site: crate::sites::Sites::default_idx(),
        at: moment(unix),
        visitor: Some(HitVisitor {
            today: VisitorId::from_value(visitor),
            yesterday: None,
        }),
        kind,
        page_props: Vec::new(),
        interaction: Interaction::Interactive,
        page: clean_page_path(page, &[]),
        referrer: None,
        source: "Direct / None".to_owned(),
        campaign: Campaign::default(),
        country: Country::UNKNOWN,
        browser: "Firefox",
        os: "Linux",
        device: Device::Desktop,
    }
}

fn pageview(visitor: u64, unix: i64, page: &str) -> Hit {
    hit(visitor, unix, page, HitKind::Pageview)
}

fn change(sessions: &mut Sessions, hit: &Hit) -> VisitChange {
    sessions
        .observe(hit)
        .visit
        .expect("identified hits change a visit")
}

#[test]
fn a_first_pageview_starts_a_bounced_visit() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    let started = change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    assert!(started.started);
    assert_eq!(started.bounce_delta, 1);
    assert!(sessions.take_ended().is_empty());
}

#[test]
fn a_second_pageview_ends_the_bounce_and_adds_its_time() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    let second = change(&mut sessions, &pageview(1, 1_000_000 + 90, "/b"));
    assert!(!second.started);
    assert_eq!(second.bounce_delta, -1);
    assert_eq!(second.duration_delta, 90);
    let third = change(&mut sessions, &pageview(1, 1_000_000 + 100, "/b"));
    assert_eq!((third.bounce_delta, third.duration_delta), (0, 10));
}

fn exits(sessions: &mut Sessions) -> Vec<String> {
    sessions
        .take_ended()
        .iter()
        .map(|ended| format!("{} -> {}", ended.attrs.entry_page, ended.exit_page))
        .collect()
}

#[test]
fn a_visit_hands_over_its_exit_page_when_it_ends() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    sessions.observe(&pageview(1, 1_000_000, "/a"));
    sessions.observe(&pageview(1, 1_000_060, "/b"));
    sessions.observe(&pageview(2, 1_000_000, "/c"));
    assert!(exits(&mut sessions).is_empty(), "both visits are open");
    // Visitor 1 comes back after the timeout: the old visit ended on /b.
    sessions.observe(&pageview(1, 1_000_060 + 31 * MINUTE, "/d"));
    assert_eq!(exits(&mut sessions), ["/a -> /b"]);
    // Visitor 2's visit ends by the sweep, visitor 1's second one at shutdown.
    sessions.sweep(&[moment(1_000_000 + 31 * MINUTE)]);
    assert_eq!(exits(&mut sessions), ["/c -> /c"]);
    sessions.end_all();
    assert_eq!(exits(&mut sessions), ["/d -> /d"]);
}

#[test]
fn an_evicted_visitor_hands_over_its_open_visit() {
    let mut sessions = Sessions::new(1, 30 * MINUTE);
    sessions.observe(&pageview(1, 1_000_000, "/a"));
    sessions.observe(&pageview(2, 1_000_001, "/b"));
    assert_eq!(exits(&mut sessions), ["/a -> /a"]);
}

#[test]
fn non_interactive_events_do_not_end_a_bounce_but_interactive_ones_do() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    let mut passive = hit(
        1,
        1_000_010,
        "/a",
        HitKind::Event {
            name: scrubbed("Scroll", &[]),
            props: vec![],
        },
    );
    passive.interaction = Interaction::NonInteractive;
    assert_eq!(change(&mut sessions, &passive).bounce_delta, 0);
    let click = hit(
        1,
        1_000_020,
        "/a",
        HitKind::Event {
            name: scrubbed("Download", &[]),
            props: vec![],
        },
    );
    assert_eq!(change(&mut sessions, &click).bounce_delta, -1);
}

#[test]
fn thirty_idle_minutes_end_a_visit() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    assert!(!change(&mut sessions, &pageview(1, 1_000_000 + 29 * MINUTE, "/a")).started);
    assert!(change(&mut sessions, &pageview(1, 1_000_000 + 59 * MINUTE, "/a")).started);
}

#[test]
fn a_visit_continues_across_midnight_under_the_new_hash_with_fresh_credits() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    let before_midnight = 20_000 * 86_400 - 5 * MINUTE;
    {
        let mut observation = sessions.observe(&pageview(1, before_midnight, "/a"));
        assert!(observation.credits.first_time(7));
    }
    let mut after = pageview(2, before_midnight + 10 * MINUTE, "/b");
    after.visitor = Some(HitVisitor {
        today: VisitorId::from_value(2),
        yesterday: Some(VisitorId::from_value(1)),
    });
    let mut observation = sessions.observe(&after);
    assert!(observation.credits.first_time(7), "a new day credits anew");
    let change = observation.visit.unwrap();
    assert!(!change.started, "the visit goes on");
    assert_eq!(
        change.start.day + 1,
        moment(before_midnight + 10 * MINUTE).day
    );
    assert_eq!(sessions.len(), 1, "the old hash is gone");
}

#[test]
fn the_cap_evicts_and_counts() {
    let mut sessions = Sessions::new(3, 30 * MINUTE);
    for visitor in 0..10 {
        sessions.observe(&pageview(visitor, 1_000_000 + visitor as i64, "/"));
    }
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.take_evicted(), 7);
    assert_eq!(sessions.take_evicted(), 0, "handed over once");
}

#[test]
fn sweeping_forgets_finished_days_and_idle_visits() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    let noon = 20_000 * 86_400 + 12 * 3_600;
    sessions.observe(&pageview(1, noon, "/"));
    sessions.sweep(&[moment(noon + 10 * MINUTE)]);
    assert_eq!(sessions.len(), 1, "still today");
    sessions.sweep(&[moment(noon + 86_400)]);
    assert!(sessions.is_empty(), "the day is over and the visit idle");
}

#[test]
fn anonymous_hits_leave_no_state() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    let mut anonymous = pageview(1, 1_000_000, "/");
    anonymous.visitor = None;
    let observation = sessions.observe(&anonymous);
    assert!(matches!(observation.credits, CreditCheck::Anonymous) && observation.visit.is_none());
    assert!(sessions.is_empty());
}

#[test]
fn realtime_counts_the_visitors_of_the_last_window() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    let now = 1_000_000;
    for hit in [
        pageview(1, now - 10 * MINUTE, "/a"),
        pageview(2, now - 4 * MINUTE, "/a"),
        pageview(2, now - MINUTE, "/b"),
        pageview(3, now - 5 * MINUTE, "/a"),
        pageview(4, now - MINUTE, "/a"),
    ] {
        sessions.observe(&hit);
    }
    // Visitor 3 is exactly five minutes old: out of the window. Visitor 2
    // counts once. Other sites (by index) have none.
    assert_eq!(sessions.recent_per_site(now, 5 * MINUTE, 2), vec![2, 0]);
    assert_eq!(sessions.recent_per_site(now, 6 * MINUTE, 1), vec![3]);
    assert_eq!(
        sessions.recent_per_site(now + 10 * MINUTE, 5 * MINUTE, 1),
        vec![0]
    );
}

/// Credits `count` new scopes to the visitor of `hit`; how many were new.
fn credit_scopes(sessions: &mut Sessions, hit: &Hit, count: u32) -> usize {
    let mut observation = sessions.observe(hit);
    (0..count)
        .filter(|fingerprint| observation.credits.first_time(*fingerprint))
        .count()
}

#[test]
fn one_visitor_holds_at_most_the_per_visitor_maximum() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    let limit = MAX_PER_VISITOR as u32;
    let first = pageview(1, 1_000_000, "/a");
    assert_eq!(
        credit_scopes(&mut sessions, &first, limit + 100),
        MAX_PER_VISITOR
    );
    assert_eq!(sessions.credits_held(), MAX_PER_VISITOR);
    // Scopes it already holds stay credited; new ones past the limit are not.
    let mut observation = sessions.observe(&pageview(1, 1_000_001, "/b"));
    assert!(!observation.credits.first_time(7));
    assert!(!observation.credits.first_time(limit + 500));
}

#[test]
fn visitors_holding_too_many_credits_together_are_evicted() {
    let mut sessions = Sessions::new(4, 30 * MINUTE);
    let budget = 4 * CREDITS_PER_VISITOR as u32;
    // Two visitors well under the visitor cap hold more than the budget.
    credit_scopes(
        &mut sessions,
        &pageview(1, 1_000_000, "/a"),
        budget / 2 + 10,
    );
    credit_scopes(
        &mut sessions,
        &pageview(2, 1_000_001, "/b"),
        budget / 2 + 10,
    );
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.credits_held(), budget as usize + 20);
    // The next visitor makes room by evicting under the credit budget,
    // oldest first, and the count of held fingerprints follows.
    sessions.observe(&pageview(3, 1_000_002, "/c"));
    assert_eq!(sessions.take_evicted(), 1);
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.credits_held(), budget as usize / 2 + 10);
    assert_eq!(exits(&mut sessions), ["/a -> /a"]);
}

#[test]
fn held_credits_are_released_by_a_new_day_and_the_sweep() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    credit_scopes(&mut sessions, &pageview(1, 1_000_000, "/a"), 30);
    credit_scopes(&mut sessions, &pageview(2, 1_000_000, "/a"), 20);
    assert_eq!(sessions.credits_held(), 50);
    // Visitor 1 comes back the next day: its credits start again.
    credit_scopes(&mut sessions, &pageview(1, 1_000_000 + 86_400, "/a"), 5);
    assert_eq!(sessions.credits_held(), 25);
    // Visitor 2's day is over and its visit idle: swept, credits released.
    sessions.sweep(&[moment(1_000_000 + 86_400 + 60)]);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions.credits_held(), 5);
}

fn report(visitor: u64, unix: i64, page: &str, depth: Option<u8>, ms: u32) -> Hit {
    let figures = crate::ingest::beacon::Engagement {
        scroll_depth: depth,
        engaged_ms: ms,
    };
    hit(visitor, unix, page, HitKind::Engagement(figures))
}

fn engaged(views: i64, ms: i64, scrolled: i64, added: i64) -> Option<PageEngagement> {
    Some(PageEngagement {
        engaged_views: views,
        engaged_ms: ms,
        scrolled_views: scrolled,
        scroll_added: added,
    })
}

#[test]
fn reports_add_the_pageviews_first_report_and_how_much_deeper_it_went() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    let first = sessions.engage(&report(1, 1_000_010, "/a", Some(40), 5_000));
    assert_eq!(first, engaged(1, 5_000, 1, 40));
    let deeper = sessions.engage(&report(1, 1_000_020, "/a", Some(70), 3_000));
    assert_eq!(deeper, engaged(0, 3_000, 0, 30));
    let back_up = sessions.engage(&report(1, 1_000_030, "/a", Some(10), 1_000));
    assert_eq!(back_up, engaged(0, 1_000, 0, 0));
    // A reload is a pageview of its own, measured anew.
    change(&mut sessions, &pageview(1, 1_000_040, "/a"));
    let reloaded = sessions.engage(&report(1, 1_000_050, "/a", None, 2_000));
    assert_eq!(reloaded, engaged(1, 2_000, 0, 0));
    let depth_later = sessions.engage(&report(1, 1_000_060, "/a", Some(20), 0));
    assert_eq!(depth_later, engaged(0, 0, 1, 20));
}

#[test]
fn a_report_for_another_page_or_without_an_open_visit_counts_nothing() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    assert_eq!(
        sessions.engage(&report(1, 1_000_000, "/a", Some(50), 9)),
        None
    );
    assert!(sessions.is_empty(), "a report creates no visitor");
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    change(&mut sessions, &pageview(1, 1_000_010, "/b"));
    change(&mut sessions, &pageview(1, 1_000_015, "/c"));
    assert_eq!(
        sessions.engage(&report(1, 1_000_020, "/a", Some(50), 9)),
        None,
        "two pages back"
    );
    let late = report(1, 1_000_015 + 30 * MINUTE, "/c", Some(50), 9);
    assert_eq!(sessions.engage(&late), None, "the visit timed out");
}

#[test]
fn a_report_that_arrives_after_the_next_pageview_counts_for_its_own_page() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    let a = sessions.engage(&report(1, 1_000_010, "/a", Some(30), 1_000));
    assert_eq!(a, engaged(1, 1_000, 1, 30));
    change(&mut sessions, &pageview(1, 1_000_020, "/b"));
    // /a's last report, overtaken by the pageview of /b.
    let late = sessions.engage(&report(1, 1_000_020, "/a", Some(90), 4_000));
    assert_eq!(late, engaged(0, 4_000, 0, 60));
    let b = sessions.engage(&report(1, 1_000_030, "/b", Some(10), 2_000));
    assert_eq!(b, engaged(1, 2_000, 1, 10));
}

#[test]
fn a_report_neither_extends_the_visit_nor_ends_its_bounce() {
    let mut sessions = Sessions::new(10, 30 * MINUTE);
    change(&mut sessions, &pageview(1, 1_000_000, "/a"));
    sessions.engage(&report(1, 1_000_000 + 20 * MINUTE, "/a", Some(90), 60_000));
    let next = change(&mut sessions, &pageview(1, 1_000_000 + 25 * MINUTE, "/b"));
    assert_eq!(next.duration_delta, 25 * MINUTE, "timed from the pageview");
    assert_eq!(next.bounce_delta, -1, "the bounce ended only now");
}

#[test]
fn two_pageviews_engagement_costs_a_visit_one_word() {
    // 16 (start) + 8 (last seen) + 8 (attributions) + 16 (last page) + 4
    // (pageviews) + 1 (bounced) + 3 + 4 + 3 (the two pageviews' engagement
    // and the previous page's hash): one word more than without them, and
    // still mimalloc's 64-byte size class, which served the 56 before.
    assert_eq!(std::mem::size_of::<Visit>(), 64);
}
