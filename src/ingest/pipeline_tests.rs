//! The pipeline's hand-off (shedding when the aggregator's queue is full) and what a hit
//! holds of every stored text.

use super::*;
use crate::ingest::admission::ShedCause;
use crate::ingest::beacon::Interaction;
use crate::privacy::Signals;
use crate::privacy::ip::{ClientIp, Truncation};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn pipeline(queue: usize) -> (Pipeline, mpsc::Receiver<Hit>, Arc<Metrics>) {
    pipeline_within(queue, None)
}

fn pipeline_within(
    queue: usize,
    admission: Option<Arc<Admission>>,
) -> (Pipeline, mpsc::Receiver<Hit>, Arc<Metrics>) {
    let configs: Vec<crate::config::SiteConfig> = ["a.example", "b.example"]
        .iter()
        .map(|id| toml::from_str(&format!("id = \"{id}\"\nhostnames = [\"a.example\"]")).unwrap())
        .collect();
    let sites = LiveSites::new(crate::sites::Sites::from_config(&configs).unwrap());
    let (hits, queued) = mpsc::channel(queue);
    let metrics = Arc::new(Metrics::new());
    let pipeline = Pipeline::new(PipelineParts {
        salts: Arc::new(SaltBook::new(2, 1800)),
        sites,
        truncation: Truncation::new(24, 48).unwrap(),
        urls: UrlPolicy::new(&[], Vec::new()),
        pii_patterns: Vec::new(),
        agents: AgentCache::new(crate::enrich::agent::AgentClassifier::new(), 64),
        countries: ArcSwapOption::empty(),
        gpc: SignalPolicy::CountAnonymously,
        dnt: SignalPolicy::Ignore,
        hits,
        admission,
        metrics: metrics.clone(),
    });
    (pipeline, queued, metrics)
}

fn beacon() -> (Beacon, Sender) {
    let beacon = Beacon {
        name: EventName::Pageview,
        url: "https://a.example/".to_owned(),
        domains: vec!["a.example".to_owned(), "b.example".to_owned()],
        referrer: None,
        screen_width: None,
        props: Vec::new(),
        hash_routing: false,
        interaction: Interaction::Interactive,
        engagement: Default::default(),
    };
    let sender = Sender {
        network: Truncation::new(24, 48)
            .unwrap()
            .apply(ClientIp::new("81.204.23.1".parse().unwrap())),
        user_agent: Some(FIREFOX.to_owned()),
        signals: Signals::default(),
    };
    (beacon, sender)
}

#[test]
fn a_beacon_some_sites_could_take_is_counted_and_the_rest_is_shed() {
    let (pipeline, mut queued, metrics) = pipeline(1);
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    let (first, sender) = beacon();
    assert_eq!(pipeline.process(first, sender, now), Outcome::Counted);
    assert_eq!(
        metrics.beacons_shed.get(),
        1,
        "the second site's hit did not fit"
    );
    assert_eq!(metrics.beacons_accepted.get(), 1);

    let (second, sender) = beacon();
    assert_eq!(
        pipeline.process(second, sender, now),
        Outcome::Dropped(DropReason::Overloaded)
    );
    assert_eq!(metrics.beacons_shed.get(), 3);
    assert_eq!(metrics.beacons_accepted.get(), 1);

    let hit = queued.try_recv().unwrap();
    assert_eq!(hit.page, "/");
    assert!(hit.visitor.is_some());
    assert!(queued.try_recv().is_err());
}

#[test]
fn past_the_admission_budget_hits_are_shed_under_their_cause_before_the_queue_is_full() {
    let admission = Arc::new(Admission::new(3));
    let (pipeline, mut queued, metrics) = pipeline_within(8, Some(admission.clone()));
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    let (first, sender) = beacon();
    assert_eq!(pipeline.process(first, sender, now), Outcome::Counted);
    let (second, sender) = beacon();
    assert_eq!(
        pipeline.process(second, sender, now),
        Outcome::Counted,
        "one of its two sites still fits"
    );
    assert_eq!(admission.admitted(), 3);
    let shed = |cause: ShedCause| {
        metrics
            .render()
            .lines()
            .find_map(|line| {
                line.strip_prefix(&format!(
                    "kruimel_redis_shed_total{{cause=\"{}\"}} ",
                    cause.as_str()
                ))
                .map(|value| value.parse::<u64>().unwrap())
            })
            .unwrap()
    };
    assert_eq!(shed(ShedCause::WriterBehind), 1);
    assert_eq!(metrics.beacons_shed.get(), 1, "counted as shed, too");

    admission.set_redis_away(true);
    let (third, sender) = beacon();
    assert_eq!(
        pipeline.process(third, sender, now),
        Outcome::Dropped(DropReason::Overloaded)
    );
    assert_eq!(shed(ShedCause::RedisAway), 2);
    assert_eq!(metrics.beacons_shed.get(), 3);
    let mut waiting = 0;
    while queued.try_recv().is_ok() {
        waiting += 1;
    }
    assert_eq!(waiting, 3, "only admitted hits were queued");
}

#[test]
fn a_hit_the_full_queue_refuses_gives_its_admission_back() {
    let admission = Arc::new(Admission::new(10));
    let (pipeline, _queued, metrics) = pipeline_within(1, Some(admission.clone()));
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    let (first, sender) = beacon();
    assert_eq!(pipeline.process(first, sender, now), Outcome::Counted);
    assert_eq!(metrics.beacons_shed.get(), 1);
    assert_eq!(admission.admitted(), 1, "the refused hit holds no budget");
}

#[test]
fn every_stored_text_of_a_hit_is_cleaned_after_its_cut() {
    let (pipeline, mut queued, _) = pipeline(4);
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    let (mut event, sender) = beacon();
    let long = "a".repeat(191);
    let page = "a".repeat(1014);
    event.name = EventName::Custom("aanvraag 111222333".to_owned());
    event.url =
        format!("https://a.example/{page}12345678202?utm_source={long}12345678202&utm_medium=x");
    event.referrer = Some("https://0612345678.example.org/pad".to_owned());
    event.props = vec![
        ("bsn 111222333".to_owned(), "jan@example.nl".to_owned()),
        ("plain".to_owned(), "06-12345678".to_owned()),
    ];
    assert_eq!(pipeline.process(event, sender, now), Outcome::Counted);
    let hit = queued.try_recv().unwrap();
    assert_eq!(hit.page, format!("/{page}{{bsn}}"));
    assert_eq!(
        hit.campaign.source.as_deref(),
        Some(format!("{long}{{bsn}}").as_str())
    );
    assert_eq!(hit.referrer.as_deref(), Some("{phone}.example.org"));
    assert_eq!(hit.source, "{phone}.example.org");
    let HitKind::Event { name, props } = hit.kind else {
        panic!("an event")
    };
    assert_eq!(name, "aanvraag {bsn}");
    let props: Vec<(&str, &str)> = props
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(props, [("bsn {bsn}", "{email}"), ("plain", "{phone}")]);
}

#[test]
fn an_engagement_report_becomes_an_engagement_hit_with_its_figures() {
    let (pipeline, mut queued, _) = pipeline(4);
    let now = "2026-11-23T10:00:00Z".parse().unwrap();
    let (mut report, sender) = beacon();
    report.name = EventName::parse("engagement").unwrap();
    report.props = vec![("author".to_owned(), "x".to_owned())];
    let figures = crate::ingest::beacon::Engagement {
        scroll_depth: Some(60),
        engaged_ms: 35_000,
    };
    report.engagement = figures;
    assert_eq!(pipeline.process(report, sender, now), Outcome::Counted);
    let hit = queued.try_recv().expect("one hit per site");
    assert_eq!(hit.kind, HitKind::Engagement(figures));
    assert!(
        hit.page_props.is_empty(),
        "the pageview's props are not repeated"
    );
}
