//! Custom event properties through the stats API: `property=event:props`
//! lists the keys the period's events carried, with their events, and each
//! key leads to its values (`event:props:KEY`). For the public a key is
//! named only when its own breakdown names one of its values.

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp, rows};

const SHARED: &str = "other.example";
const SHARE: &str = "share-secret-5b1e";
const KEYS: &str = "breakdown?period=day&property=event:props";

/// An event named `name` on `page` of `site`, sent from `ip`.
async fn event(app: &TestApp, site: &str, ip: &str, page: &str, props: Value) {
    let body = json!({
        "n": "Formulier verzonden",
        "u": format!("https://{site}{page}"),
        "d": site,
        "p": props,
    });
    assert_eq!(app.send(ip, FIREFOX, &body.to_string()).await.status(), 202);
}

async fn keys_are_listed_with_their_events_and_lead_to_their_values(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let melding = json!({ "formulier": "melding", "taal": "nl" });
    event(&app, SITE, "81.204.1.1", "/melden", melding.clone()).await;
    event(&app, SITE, "81.204.1.1", "/melden", melding).await;
    let klacht = json!({ "formulier": "klacht" });
    event(&app, SITE, "81.204.2.1", "/klacht", klacht).await;
    let pageview = json!({ "n": "pageview", "u": "https://gemeente.example/", "d": SITE });
    app.send("81.204.3.1", FIREFOX, &pageview.to_string()).await;
    app.wait_for_events(4, "period=day").await;

    let keys = app
        .stats("breakdown", "period=day&property=event:props")
        .await;
    assert_eq!(
        rows(&keys, "prop_key", "events"),
        [("formulier".into(), 3), ("taal".into(), 2)],
        "events that carried each key, most first"
    );
    assert_eq!(
        keys["results"][0].as_object().unwrap().len(),
        2,
        "the key and its events, nothing else: {keys}"
    );
    // Each key leads to its values.
    let values = app
        .stats(
            "breakdown",
            "period=day&property=event:props:formulier&metrics=visitors,events",
        )
        .await;
    assert_eq!(
        rows(&values, "formulier", "events"),
        [("melding".into(), 2), ("klacht".into(), 1)]
    );
    // The filter re-scopes the list; pages and CSV work as for any breakdown.
    let filtered = app
        .stats(
            "breakdown",
            "period=day&property=event:props&filters=event:page%3D%3D/klacht",
        )
        .await;
    assert_eq!(
        rows(&filtered, "prop_key", "events"),
        [("formulier".into(), 1)]
    );
    let second = app
        .stats(
            "breakdown",
            "period=day&property=event:props&limit=1&page=2",
        )
        .await;
    assert_eq!(rows(&second, "prop_key", "events"), [("taal".into(), 2)]);
    let csv = app
        .stats_response("breakdown", "period=day&property=event:props&format=csv")
        .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.text().await.unwrap(),
        "prop_key,events\nformulier,3\ntaal,2\n"
    );
    let yesterday = app
        .stats(
            "breakdown",
            "period=day&date=2026-11-22&property=event:props",
        )
        .await;
    assert_eq!(yesterday["results"], json!([]));

    // Visitors are counted per value, so they cannot be summed per key.
    for metrics in ["visitors", "events,visits", "pageviews"] {
        let response = app
            .stats_response(
                "breakdown",
                &format!("period=day&property=event:props&metrics={metrics}"),
            )
            .await;
        assert_eq!(response.status(), 400, "{metrics}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_metric", "{metrics}");
    }
}

fn sites() -> String {
    let token = TokenHash::of_token(TOKEN).stored_form();
    let share = TokenHash::of_token(SHARE).stored_form();
    format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}"], public = true, k_anonymity = 3, tokens = ["{token}"] }}, {{ id = "{SHARED}", k_anonymity = 3, tokens = ["{token}"], share_links = ["{share}"] }}]"#
    )
}

async fn get(app: &TestApp, site: &str, path: &str, token: Option<&str>) -> Value {
    let mut request = app.client.get(format!(
        "http://{}/api/v1/stats/{path}&site_id={site}",
        app.public
    ));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn keys_are_folded_for_the_public_like_their_values(backend: Backend) {
    let sites = sites();
    let app = TestApp::spawn_on_with(
        backend,
        &[("KRUIMEL_SITES", &sites)],
        "2026-11-23T10:00:00Z",
    )
    .await;
    for site in [SITE, SHARED] {
        // Three people sent one value of `formulier`: it may be named.
        for ip in ["81.204.1.1", "81.204.2.1", "81.204.3.1"] {
            event(&app, site, ip, "/melden", json!({ "formulier": "melding" })).await;
        }
        // One person sent four values of `zoekterm`: four visitors summed
        // over values, but one person, so it is folded.
        for term in ["a", "b", "c", "d"] {
            event(
                &app,
                site,
                "81.204.4.1",
                "/zoeken",
                json!({ "zoekterm": term }),
            )
            .await;
        }
        event(
            &app,
            site,
            "81.204.5.1",
            "/zeldzaam",
            json!({ "taal": "fy" }),
        )
        .await;
    }
    app.wait_for_events(8, "period=day").await;
    // The second site's events too: a flush may hold them back a little.
    let events = "aggregate?period=day&metrics=events";
    for _ in 0..1_500 {
        let shared = get(&app, SHARED, events, Some(TOKEN)).await;
        if shared["results"]["events"]["value"] == 8 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let public = get(&app, SITE, KEYS, None).await;
    assert_eq!(
        rows(&public, "prop_key", "events"),
        [("(other)".into(), 8)],
        "keys carried by fewer than k people are folded, and formulier with them: \
         the day's 5 people minus its 3 would tell the 2 others"
    );
    assert!(!public.to_string().contains("zoekterm"));
    let owner = get(&app, SITE, KEYS, Some(TOKEN)).await;
    assert_eq!(
        rows(&owner, "prop_key", "events"),
        [
            ("zoekterm".into(), 4),
            ("formulier".into(), 3),
            ("taal".into(), 1)
        ],
        "the token sees every key"
    );
    // A key is named exactly when its own breakdown names a value.
    for key in ["formulier", "zoekterm", "taal"] {
        let values = get(
            &app,
            SITE,
            &format!("breakdown?period=day&property=event:props:{key}&metrics=visitors,events"),
            None,
        )
        .await;
        let named = values["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row[key] != "(other)");
        let listed = public["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["prop_key"] == key);
        assert_eq!(named, listed, "{key}: {values}");
    }
    // A filter too small for the public shows no keys at all.
    let small = get(
        &app,
        SITE,
        &format!("{KEYS}&filters=event:page%3D%3D/zeldzaam"),
        None,
    )
    .await;
    assert_eq!(small["results"], json!([]));
    let owned = get(
        &app,
        SITE,
        &format!("{KEYS}&filters=event:page%3D%3D/zeldzaam"),
        Some(TOKEN),
    )
    .await;
    assert_eq!(rows(&owned, "prop_key", "events"), [("taal".into(), 1)]);

    // A share link reads a private site's keys as the public does.
    let shared = get(&app, SHARED, &format!("{KEYS}&share={SHARE}"), None).await;
    assert_eq!(rows(&shared, "prop_key", "events"), [("(other)".into(), 8)]);
}

/// Plausible's `plausible('pageview', {props: {...}})`: the properties of
/// a pageview are counted like an event's, and the pageview stays a
/// pageview, not a custom event.
async fn a_pageviews_properties_are_counted_like_an_events(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let pageview = |ip: &str, page: &str, props: Value| {
        let body = json!({
            "n": "pageview",
            "u": format!("https://{SITE}{page}"),
            "d": SITE,
            "p": props,
        });
        (ip.to_owned(), body.to_string())
    };
    for (ip, body) in [
        pageview(
            "81.204.1.1",
            "/nieuws/a",
            json!({ "auteur": "Jansen", "rubriek": "wonen" }),
        ),
        pageview("81.204.1.1", "/nieuws/b", json!({ "auteur": "Jansen" })),
        pageview("81.204.2.1", "/nieuws/c", json!({ "auteur": "De Vries" })),
        pageview("81.204.3.1", "/", json!({})),
    ] {
        let answer = app.send(&ip, FIREFOX, &body).await;
        assert_eq!(answer.status(), 202);
        assert!(
            answer.headers().get("x-kruimel-dropped").is_none(),
            "counted whole, properties too"
        );
    }
    app.wait_for_events(4, "period=day").await;
    let authors = app
        .stats(
            "breakdown",
            "period=day&property=event:props:auteur&metrics=visitors,pageviews,events",
        )
        .await;
    assert_eq!(
        authors["results"],
        json!([
            { "auteur": "Jansen", "visitors": 1, "pageviews": 2, "events": 2 },
            { "auteur": "De Vries", "visitors": 1, "pageviews": 1, "events": 1 },
        ])
    );
    let keys = app
        .stats("breakdown", "period=day&property=event:props")
        .await;
    assert_eq!(
        rows(&keys, "prop_key", "events"),
        [("auteur".into(), 3), ("rubriek".into(), 1)]
    );
    // Still pageviews: four of them, and no custom event by any name.
    assert_eq!(app.metric("pageviews", "period=day").await, 4);
    let names = app
        .stats("breakdown", "period=day&property=event:name")
        .await;
    assert_eq!(names["results"], json!([]));
    // Under a page filter, the page's own pageviews by property.
    let on_page = app
        .stats(
            "breakdown",
            "period=day&filters=event:page%3D%3D/nieuws/a&property=event:props:rubriek&metrics=pageviews",
        )
        .await;
    assert_eq!(
        on_page["results"],
        json!([{ "rubriek": "wonen", "pageviews": 1 }])
    );
}

on_every_backend!(
    keys_are_listed_with_their_events_and_lead_to_their_values,
    keys_are_folded_for_the_public_like_their_values,
    a_pageviews_properties_are_counted_like_an_events,
);
