//! Promise 6 through the stats API: a public site, and a private site's
//! share link, read the stats without a token, with rows of fewer than k
//! visitors folded into "(other)" and smaller totals withheld; the site's
//! token still reads everything.

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp, rows};

const OTHER: &str = "other.example";
const SHARE: &str = "share-secret-5b1e";

fn sites() -> String {
    let token = TokenHash::of_token(TOKEN).stored_form();
    let share = TokenHash::of_token(SHARE).stored_form();
    format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}"], public = true, k_anonymity = 3, tokens = ["{token}"] }}, {{ id = "{OTHER}", k_anonymity = 3, tokens = ["{token}"], share_links = ["{share}"] }}]"#
    )
}

async fn get(app: &TestApp, site: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.client.get(format!(
        "http://{}/api/v1/stats/{path}{}site_id={site}",
        app.public,
        if path.contains('?') { "&" } else { "?" }
    ));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn visit(app: &TestApp, site: &str, ip: &str, page: &str) {
    let body = json!({ "n": "pageview", "u": format!("https://{site}{page}"), "d": site });
    assert_eq!(app.send(ip, FIREFOX, &body.to_string()).await.status(), 202);
}

async fn small_counts_are_folded_or_withheld_for_the_public_only(backend: Backend) {
    let sites = sites();
    let app = TestApp::spawn_on_with(
        backend,
        &[("KRUIMEL_SITES", &sites)],
        "2026-11-23T10:00:00Z",
    )
    .await;
    for site in [SITE, OTHER] {
        for ip in ["81.204.1.1", "81.204.2.1", "81.204.3.1"] {
            visit(&app, site, ip, "/afval").await;
        }
        visit(&app, site, "81.204.4.1", "/bezwaar-jan").await;
        visit(&app, site, "81.204.5.1", "/zeldzaam").await;
    }
    app.wait_for_events(5, "period=day").await;
    let pages = "breakdown?period=day&property=event:page&metrics=visitors,pageviews";

    let (status, public) = get(&app, SITE, pages, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        rows(&public, "page", "visitors"),
        [("(other)".into(), 5)],
        "rows under k = 3 are folded, and /afval with them: 5 − 3 would tell the 2"
    );
    assert!(!public.to_string().contains("bezwaar"));
    let (_, owner) = get(&app, SITE, pages, Some(TOKEN)).await;
    assert_eq!(
        rows(&owner, "page", "visitors").len(),
        3,
        "the token sees every row"
    );

    let (_, total) = get(&app, SITE, "aggregate?period=day&metrics=visitors", None).await;
    assert_eq!(total["results"]["visitors"]["value"], 5);
    let filtered =
        "aggregate?period=day&metrics=visitors,pageviews&filters=event:page%3D%3D/zeldzaam";
    let (_, small) = get(&app, SITE, filtered, None).await;
    assert_eq!(small["results"]["visitors"]["value"], Value::Null);
    assert_eq!(small["results"]["pageviews"]["value"], Value::Null);
    let (_, small_rows) = get(
        &app,
        SITE,
        &format!("{pages}&filters=event:page%3D%3D/zeldzaam"),
        None,
    )
    .await;
    assert_eq!(small_rows["results"], json!([]));
    let (_, owned) = get(&app, SITE, filtered, Some(TOKEN)).await;
    assert_eq!(owned["results"]["visitors"]["value"], 1);

    let (_, hours) = get(
        &app,
        SITE,
        "timeseries?period=day&interval=hour&metrics=visitors",
        None,
    )
    .await;
    let points = hours["results"].as_array().unwrap();
    assert!(points.iter().any(|point| point["visitors"] == 5));
    assert!(
        points
            .iter()
            .all(|point| point["visitors"].is_null() || point["visitors"] == 5),
        "an hour of nobody looks like an hour of few"
    );
    let (_, now) = get(&app, SITE, "realtime/visitors", None).await;
    assert_eq!(now, 3, "5 visitors now, in steps of k = 3");

    // A private site: only its token, or a share link, reads it.
    assert_eq!(get(&app, OTHER, pages, None).await.0, 401);
    assert_eq!(
        get(&app, OTHER, &format!("{pages}&share=wrong"), None)
            .await
            .0,
        401
    );
    let (status, shared) = get(&app, OTHER, &format!("{pages}&share={SHARE}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(rows(&shared, "page", "visitors"), [("(other)".into(), 5)]);
    let (status, _) = get(
        &app,
        OTHER,
        &format!("consent?period=day&share={SHARE}"),
        None,
    )
    .await;
    assert_eq!(status, 401, "consent counts are for the site's own people");
    assert_eq!(get(&app, SITE, "consent?period=day", None).await.0, 401);
}

on_every_backend!(small_counts_are_folded_or_withheld_for_the_public_only);
