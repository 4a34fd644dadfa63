use super::*;
use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::Interaction;
use crate::privacy::pii::referrer;
use crate::privacy::pii::scrubbed;
use crate::privacy::url::Campaign;
use crate::privacy::url::clean_page_path;
use crate::sites::Moment;

fn limits(cap: usize) -> DistinctValues {
    DistinctValues {
        pages: cap,
        referrers: cap,
        sources: cap,
        utm: cap,
        event_names: cap,
        prop_keys: cap,
        prop_values: cap,
        link_targets: cap,
        not_found_paths: cap,
    }
}

fn hit(day: i32, page: &str, kind: HitKind) -> Hit {
    Hit {
        site: crate::sites::Sites::default_idx(),
        at: Moment {
            unix: i64::from(day) * 86_400,
            day,
            hour: day * 24,
        },
        visitor: None,
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

fn page_after(cap: &mut DistinctCap, day: i32, page: &str) -> String {
    let mut hit = hit(day, page, HitKind::Pageview);
    cap.apply(&mut hit);
    hit.page.into_string()
}

fn event(name: &str, props: &[(&str, &str)]) -> HitKind {
    HitKind::Event {
        name: scrubbed(name, &[]),
        props: props
            .iter()
            .map(|(key, value)| (scrubbed(key, &[]), scrubbed(value, &[])))
            .collect(),
    }
}

fn event_after(cap: &mut DistinctCap, kind: HitKind) -> HitKind {
    let mut hit = hit(1, "/", kind);
    cap.apply(&mut hit);
    hit.kind
}

#[test]
fn values_past_the_cap_count_under_other_and_values_seen_keep_their_name() {
    let mut cap = DistinctCap::new(limits(2));
    assert_eq!(page_after(&mut cap, 1, "/a"), "/a");
    assert_eq!(page_after(&mut cap, 1, "/b"), "/b");
    assert_eq!(page_after(&mut cap, 1, "/c"), OTHER);
    assert_eq!(page_after(&mut cap, 1, "/a"), "/a", "seen today");
    assert_eq!(page_after(&mut cap, 1, "/d"), OTHER);
    let capped = cap.take_capped();
    assert_eq!(capped[Property::Page as usize], 2);
    assert_eq!(
        cap.take_newly_full(),
        [(0, Property::Page)],
        "reported once"
    );
    assert_eq!(cap.take_capped(), [0; Property::ALL.len()], "taken");
}

#[test]
fn a_new_local_day_starts_over() {
    let mut cap = DistinctCap::new(limits(1));
    assert_eq!(page_after(&mut cap, 1, "/a"), "/a");
    assert_eq!(page_after(&mut cap, 1, "/b"), OTHER);
    assert_eq!(page_after(&mut cap, 2, "/b"), "/b");
    assert_eq!(
        page_after(&mut cap, 1, "/c"),
        OTHER,
        "a late hit of yesterday meets today's values"
    );
}

#[test]
fn a_client_sent_other_is_not_the_caps_other() {
    let mut cap = DistinctCap::new(limits(10));
    assert_eq!(page_after(&mut cap, 1, OTHER), OTHER_AS_SENT);
    let kind = event_after(&mut cap, event(OTHER, &[(OTHER, OTHER), ("k", OTHER)]));
    assert_eq!(
        kind,
        event(
            OTHER_AS_SENT,
            &[(OTHER_AS_SENT, OTHER_AS_SENT), ("k", OTHER_AS_SENT)]
        )
    );
}

#[test]
fn each_property_has_a_cap_of_its_own() {
    let mut cap = DistinctCap::new(DistinctValues {
        referrers: 1,
        utm: 1,
        ..limits(100)
    });
    let mut first = hit(1, "/a", HitKind::Pageview);
    first.referrer = Some(referrer("a.example", &[]));
    first.campaign.source = Some("mail".to_owned());
    first.campaign.medium = Some("email".to_owned());
    cap.apply(&mut first);
    let mut second = hit(1, "/b", HitKind::Pageview);
    second.referrer = Some(referrer("b.example", &[]));
    second.campaign.source = Some("krant".to_owned());
    second.campaign.medium = Some("email".to_owned());
    second.source = "b.example".to_owned();
    cap.apply(&mut second);
    assert_eq!(second.page, "/b");
    assert_eq!(second.source, "b.example");
    assert_eq!(second.referrer.as_deref(), Some(OTHER));
    assert_eq!(second.campaign.source.as_deref(), Some(OTHER));
    assert_eq!(second.campaign.medium.as_deref(), Some("email"));
}

#[test]
fn props_are_capped_by_key_and_by_pair_and_link_targets_apart() {
    let mut cap = DistinctCap::new(DistinctValues {
        prop_keys: 2,
        prop_values: 3,
        link_targets: 1,
        ..limits(100)
    });
    let kind = event_after(
        &mut cap,
        event("Form", &[("a", "1"), ("b", "1"), ("c", "1")]),
    );
    assert_eq!(
        kind,
        event("Form", &[("a", "1"), ("b", "1"), (OTHER, OTHER)]),
        "the third key is past the key cap"
    );
    let kind = event_after(&mut cap, event("Form", &[("a", "2"), ("a", "3")]));
    assert_eq!(
        kind,
        event("Form", &[("a", "2"), ("a", OTHER)]),
        "pairs a=1, b=1, a=2 fill the pair cap"
    );
    let kind = event_after(
        &mut cap,
        event("File Download", &[("url", "x.example/a.pdf")]),
    );
    assert_eq!(kind, event("File Download", &[("url", "x.example/a.pdf")]));
    let kind = event_after(
        &mut cap,
        event("File Download", &[("url", "x.example/b.pdf")]),
    );
    assert_eq!(kind, event("File Download", &[("url", OTHER)]));
}

#[test]
fn memory_holds_at_most_the_cap_of_hashes_per_property() {
    let mut cap = DistinctCap::new(limits(50));
    for page in 0..10_000 {
        page_after(&mut cap, 1, &format!("/{page}"));
    }
    let site = cap.sites[0].as_ref().unwrap();
    assert_eq!(site.seen[Property::Page as usize].len(), 50);
}

#[test]
fn values_seeded_from_the_store_fill_the_cap_like_values_seen() {
    let mut cap = DistinctCap::new(limits(2));
    let site = crate::sites::Sites::default_idx();
    cap.seed(site, 1, Property::Page, Seeded::Text("/a"));
    cap.seed(site, 1, Property::Page, Seeded::Text(OTHER));
    cap.seed(site, 1, Property::Page, Seeded::Text("/b"));
    assert_eq!(page_after(&mut cap, 1, "/a"), "/a");
    assert_eq!(
        page_after(&mut cap, 1, "/c"),
        OTHER,
        "full: \"(other)\" took no room"
    );
    cap.seed(site, 1, Property::PropValue, Seeded::Pair("a", "1"));
    cap.seed(site, 1, Property::PropKey, Seeded::Text("a"));
    let kind = event_after(&mut cap, event("Form", &[("a", "1")]));
    assert_eq!(kind, event("Form", &[("a", "1")]));
}
