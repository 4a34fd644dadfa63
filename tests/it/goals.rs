//! Goals as a filter: `event:goal==NAME` re-scopes every breakdown to the
//! people who sent the custom event NAME, counted when they sent it (the
//! page it was sent on, the visit it was sent in), and `conversion_rate`
//! divides them by the visitors of the same row without the filter.

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{CHROME, FIREFOX, SITE, TOKEN, TestApp};

const GOAL: &str = "filters=event:goal%3D%3DFormulier+verzonden";
const GOOGLE: &str = "https://www.google.nl/search?q=melden";

async fn goal(app: &TestApp, ip: &str, agent: &str, page: &str) {
    let body = json!({
        "n": "Formulier verzonden",
        "u": format!("https://{SITE}{page}"),
        "d": SITE,
    });
    assert_eq!(app.send(ip, agent, &body.to_string()).await.status(), 202);
}

async fn view(app: &TestApp, ip: &str, agent: &str, url: &str, referrer: Option<&str>) {
    let response = app.pageview(ip, agent, url, referrer).await;
    assert_eq!(response.status(), 202);
}

/// Five visitors, three of whom send the goal (A twice):
/// - A (Firefox) from Google: /afval, /melden, the goal twice on /melden;
/// - B (Firefox) direct: /melden, the goal on /melden;
/// - C (Firefox) from Google: /afval only;
/// - D (Firefox) direct, an hour later: /, /melden, no goal;
/// - E (Chrome) from Google with a campaign, an hour later: /contact and
///   the goal there.
async fn script(app: &TestApp) {
    let site = |path: &str| format!("https://{SITE}{path}");
    app.set_time("2026-11-23T10:00:00Z");
    view(app, "81.204.1.1", FIREFOX, &site("/afval"), Some(GOOGLE)).await;
    view(app, "81.204.2.1", FIREFOX, &site("/melden"), None).await;
    view(app, "81.204.3.1", FIREFOX, &site("/afval"), Some(GOOGLE)).await;
    app.set_time("2026-11-23T10:02:00Z");
    view(app, "81.204.1.1", FIREFOX, &site("/melden"), None).await;
    app.set_time("2026-11-23T10:05:00Z");
    goal(app, "81.204.1.1", FIREFOX, "/melden").await;
    goal(app, "81.204.2.1", FIREFOX, "/melden").await;
    app.set_time("2026-11-23T10:20:00Z");
    goal(app, "81.204.1.1", FIREFOX, "/melden").await;
    app.set_time("2026-11-23T11:10:00Z");
    view(app, "81.204.4.1", FIREFOX, &site("/"), None).await;
    view(app, "81.204.4.1", FIREFOX, &site("/melden"), None).await;
    let campaign = site("/contact?utm_campaign=herfst");
    view(app, "81.204.5.1", CHROME, &campaign, Some(GOOGLE)).await;
    app.set_time("2026-11-23T11:12:00Z");
    goal(app, "81.204.5.1", CHROME, "/contact").await;
    app.wait_for_events(11, "period=day").await;
}

/// Each row's value with `visitors` and `conversion_rate`.
fn rates(body: &Value, field: &str) -> Vec<(String, i64, f64)> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows: {body}"))
        .iter()
        .map(|row| {
            (
                row[field].as_str().unwrap().to_owned(),
                row["visitors"].as_i64().unwrap(),
                row["conversion_rate"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn row(value: &str, visitors: i64, rate: f64) -> (String, i64, f64) {
    (value.to_owned(), visitors, rate)
}

async fn breakdown(app: &TestApp, property: &str) -> Value {
    let query =
        format!("period=day&{GOAL}&property={property}&metrics=visitors,conversion_rate,events");
    app.stats("breakdown", &query).await
}

async fn a_goal_counts_the_people_who_sent_it_once_with_their_conversion_rate(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let all = app
        .stats("aggregate", "period=day&metrics=visitors,events")
        .await;
    assert_eq!(all["results"]["visitors"]["value"], 5);
    let goal = app
        .stats(
            "aggregate",
            &format!("period=day&{GOAL}&metrics=visitors,events,conversion_rate"),
        )
        .await;
    assert_eq!(goal["results"]["visitors"]["value"], 3, "A once: {goal}");
    assert_eq!(goal["results"]["events"]["value"], 4, "A's goal twice");
    assert_eq!(goal["results"]["conversion_rate"]["value"], 60.0);
    // At 13:00 local every goal of the script lies in a whole hour.
    app.set_time("2026-11-23T12:00:00Z");
    let compared = app
        .stats(
            "aggregate",
            &format!("period=day&{GOAL}&metrics=conversion_rate&compare=previous_period"),
        )
        .await;
    assert_eq!(
        compared["results"]["conversion_rate"],
        json!({ "value": 60.0, "change": null }),
        "nobody to convert yesterday: no change in points, against nothing"
    );

    // A goal never sent: nobody, a rate of 0, no rows.
    let never = "filters=event:goal%3D%3DNooit+verzonden";
    let none = app
        .stats(
            "aggregate",
            &format!("period=day&{never}&metrics=visitors,events,conversion_rate"),
        )
        .await;
    assert_eq!(none["results"]["visitors"]["value"], 0);
    assert_eq!(none["results"]["events"]["value"], 0);
    assert_eq!(none["results"]["conversion_rate"]["value"], 0.0);
    let pages = app
        .stats(
            "breakdown",
            &format!("period=day&{never}&property=event:page&metrics=conversion_rate"),
        )
        .await;
    assert_eq!(pages["results"], json!([]));

    // Every goal's rate per name, without a filter.
    let names = app
        .stats(
            "breakdown",
            "period=day&property=event:name&metrics=visitors,conversion_rate",
        )
        .await;
    assert_eq!(rates(&names, "name"), [row("Formulier verzonden", 3, 60.0)]);
}

async fn a_goal_breaks_down_by_the_page_and_visit_it_was_sent_in(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    // The page the goal was sent on, against everyone who saw that page.
    let pages = breakdown(&app, "event:page").await;
    assert_eq!(
        rates(&pages, "page"),
        [row("/melden", 2, 66.7), row("/contact", 1, 100.0)],
        "/melden: A and B of A, B and D"
    );
    assert_eq!(pages["results"][0]["events"], 3);
    let sources = breakdown(&app, "visit:source").await;
    assert_eq!(
        rates(&sources, "source"),
        [row("Google", 2, 66.7), row("Direct / None", 1, 50.0)]
    );
    let entries = breakdown(&app, "visit:entry_page").await;
    assert_eq!(
        rates(&entries, "entry_page"),
        [
            row("/afval", 1, 50.0),
            row("/contact", 1, 100.0),
            row("/melden", 1, 100.0)
        ]
    );
    let referrers = breakdown(&app, "visit:referrer").await;
    assert_eq!(rates(&referrers, "referrer"), [row("google.nl", 2, 66.7)]);
    let campaigns = breakdown(&app, "visit:utm_campaign").await;
    assert_eq!(rates(&campaigns, "utm_campaign"), [row("herfst", 1, 100.0)]);
    let browsers = breakdown(&app, "visit:browser").await;
    assert_eq!(
        rates(&browsers, "browser"),
        [row("Firefox", 2, 50.0), row("Chrome", 1, 100.0)]
    );
    // Broken down by its own property, a goal is one row: its totals.
    let own = breakdown(&app, "event:name").await;
    assert_eq!(rates(&own, "name"), [row("Formulier verzonden", 3, 60.0)]);

    // The export of every panel answers the goal's figures too.
    let csv = app
        .stats_response(
            "breakdown",
            &format!("period=day&{GOAL}&property=visit:source&metrics=visitors,conversion_rate&format=csv"),
        )
        .await;
    assert_eq!(
        csv.text().await.unwrap(),
        "source,conversion_rate,visitors\nGoogle,66.7,2\nDirect / None,50.0,1\n"
    );
    let zip = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/export?site_id={SITE}&period=day&{GOAL}",
            app.public
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert!(archive.by_name("exit_pages.csv").is_err(), "no goal part");
    let mut pages = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("pages.csv").unwrap(), &mut pages).unwrap();
    assert_eq!(
        pages,
        "page,conversion_rate,events,visitors\n/melden,66.7,3,2\n/contact,100.0,1,1\n"
    );
}

async fn a_goal_has_a_series_by_hour_and_by_day(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let hours = app
        .stats(
            "timeseries",
            &format!("period=day&{GOAL}&metrics=visitors,conversion_rate"),
        )
        .await;
    let shown: Vec<(String, i64, f64)> = hours["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|point| point["visitors"] != 0)
        .map(|point| {
            (
                point["date"].as_str().unwrap().to_owned(),
                point["visitors"].as_i64().unwrap(),
                point["conversion_rate"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            row("2026-11-23 11:00:00", 2, 66.7),
            row("2026-11-23 12:00:00", 1, 50.0)
        ],
        "A and B of A, B, C; then E of D and E"
    );
    assert_eq!(hours["results"][0]["conversion_rate"], 0.0);
    let days = app
        .stats(
            "timeseries",
            &format!("period=7d&{GOAL}&metrics=visitors,conversion_rate"),
        )
        .await;
    let last = days["results"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last,
        json!({ "date": "2026-11-23", "visitors": 3, "conversion_rate": 60.0 })
    );
    assert_eq!(
        days["results"][0],
        json!({ "date": "2026-11-17", "visitors": 0, "conversion_rate": 0.0 })
    );
}

async fn combinations_a_goal_cannot_answer_get_stable_codes(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let refused = [
        (
            "aggregate?metrics=conversion_rate".to_owned(),
            "invalid_metric",
        ),
        (
            "breakdown?property=event:page&metrics=conversion_rate".to_owned(),
            "invalid_metric",
        ),
        (
            format!("aggregate?{GOAL}&metrics=bounce_rate"),
            "invalid_metric",
        ),
        (format!("aggregate?{GOAL}&metrics=visits"), "invalid_metric"),
        (
            format!("timeseries?{GOAL}&metrics=pageviews"),
            "invalid_metric",
        ),
        (
            format!("breakdown?{GOAL}&property=visit:exit_page"),
            "invalid_property",
        ),
        (
            "aggregate?filters=event:goal%3D%3D".to_owned(),
            "invalid_filter",
        ),
    ];
    for (query, code) in refused {
        let (endpoint, params) = query.split_once('?').unwrap();
        let response = app
            .stats_response(endpoint, &format!("period=day&{params}"))
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{query}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("goal"), "{query}: {message}");
    }
}

async fn public_get(app: &TestApp, path: &str) -> Value {
    let url = format!("http://{}/api/v1/stats/{path}&site_id={SITE}", app.public);
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn the_public_reads_a_goal_only_as_a_published_cell(backend: Backend) {
    let token = TokenHash::of_token(TOKEN).stored_form();
    let sites = format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}"], public = true, k_anonymity = 3, tokens = ["{token}"] }}]"#
    );
    let app = TestApp::spawn_on_with(
        backend,
        &[("KRUIMEL_SITES", &sites)],
        "2026-11-23T10:00:00Z",
    )
    .await;
    // Six visitors: three send the form, one files a complaint.
    for ip in ["81.204.1.1", "81.204.2.1", "81.204.3.1"] {
        goal(&app, ip, FIREFOX, "/melden").await;
    }
    let complaint =
        json!({ "n": "Klacht ingediend", "u": format!("https://{SITE}/klacht"), "d": SITE });
    assert_eq!(
        app.send("81.204.4.1", FIREFOX, &complaint.to_string())
            .await
            .status(),
        202
    );
    for ip in ["81.204.5.1", "81.204.6.1"] {
        view(&app, ip, FIREFOX, &format!("https://{SITE}/"), None).await;
    }
    app.wait_for_events(6, "period=day").await;

    let metrics = "metrics=visitors,events,conversion_rate";
    let form = public_get(&app, &format!("aggregate?period=day&{GOAL}&{metrics}")).await;
    assert_eq!(form["results"]["visitors"]["value"], 3);
    assert_eq!(form["results"]["conversion_rate"]["value"], 50.0);
    // One person's goal is not published: neither its people nor its rate.
    let one = "filters=event:goal%3D%3DKlacht+ingediend";
    let small = public_get(&app, &format!("aggregate?period=day&{one}&{metrics}")).await;
    for metric in ["visitors", "events", "conversion_rate"] {
        assert_eq!(small["results"][metric]["value"], Value::Null, "{small}");
    }
    // A goal broken down by another property, or by hour, is a table of
    // two properties: not for the public.
    let pages = public_get(
        &app,
        &format!("breakdown?period=day&{GOAL}&property=event:page&{metrics}"),
    )
    .await;
    assert_eq!(pages["results"], json!([]));
    let hours = public_get(&app, &format!("timeseries?period=day&{GOAL}&{metrics}")).await;
    assert!(
        hours["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|point| point["visitors"].is_null() && point["conversion_rate"].is_null()),
        "{hours}"
    );
    let days = public_get(&app, &format!("timeseries?period=7d&{GOAL}&{metrics}")).await;
    assert_eq!(
        days["results"][6],
        json!({ "date": "2026-11-23", "visitors": 3, "events": 3, "conversion_rate": 50.0 })
    );
    // The site's token still reads the small goal.
    let owner = app
        .stats("aggregate", &format!("period=day&{one}&{metrics}"))
        .await;
    assert_eq!(owner["results"]["visitors"]["value"], 1);
    assert_eq!(owner["results"]["conversion_rate"]["value"], 16.7);
}

on_every_backend!(
    a_goal_counts_the_people_who_sent_it_once_with_their_conversion_rate,
    a_goal_breaks_down_by_the_page_and_visit_it_was_sent_in,
    a_goal_has_a_series_by_hour_and_by_day,
    combinations_a_goal_cannot_answer_get_stable_codes,
    the_public_reads_a_goal_only_as_a_published_cell,
);
