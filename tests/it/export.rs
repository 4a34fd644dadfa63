//! Exports: a panel as CSV, and every panel of a period as a zip, folded
//! for the public exactly like the JSON answers.

use std::io::Read;

use kruimel::config::TokenHash;
use serde_json::json;

use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp};

async fn seeded() -> TestApp {
    let sites = format!(
        r#"[{{ id = "{SITE}", public = true, k_anonymity = 2, tokens = ["{}"] }}]"#,
        TokenHash::of_token(TOKEN).stored_form()
    );
    let app = TestApp::spawn_with(&[("KRUIMEL_SITES", &sites)], "2026-11-23T10:00:00Z").await;
    for (ip, page) in [
        ("81.204.1.1", "/afval"),
        ("81.204.2.1", "/afval"),
        ("81.204.3.1", "/melding?utm_campaign=%3DSUM(A1)"),
    ] {
        let body = json!({ "n": "pageview", "u": format!("https://{SITE}{page}"), "d": SITE });
        assert_eq!(app.send(ip, FIREFOX, &body.to_string()).await.status(), 202);
    }
    let download = json!({ "n": "File Download", "u": format!("https://{SITE}/afval"), "d": SITE, "p": { "url": format!("https://{SITE}/kalender.pdf") } });
    assert_eq!(
        app.send("81.204.1.1", FIREFOX, &download.to_string())
            .await
            .status(),
        202
    );
    app.wait_for_events(4, "period=day").await;
    app
}

async fn fetch(app: &TestApp, path: &str, token: bool) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("http://{}/api/v1/stats/{path}", app.public));
    if token {
        request = request.bearer_auth(TOKEN);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panel_exports_as_csv_with_formulas_defused_and_small_rows_folded_for_the_public() {
    let app = seeded().await;
    let path = format!(
        "breakdown?site_id={SITE}&period=day&property=event:page&metrics=visitors,pageviews&format=csv"
    );
    let owner = fetch(&app, &path, true).await;
    assert_eq!(owner.status(), 200);
    assert_eq!(owner.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        owner.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        owner.text().await.unwrap(),
        "page,pageviews,visitors\n/afval,2,2\n/melding,1,1\n"
    );
    let campaigns = fetch(
        &app,
        &format!("breakdown?site_id={SITE}&period=day&property=visit:utm_campaign&metrics=visitors&format=csv"),
        true,
    )
    .await;
    assert_eq!(
        campaigns.text().await.unwrap(),
        "utm_campaign,visitors\n'=SUM(A1),1\n",
        "a value a spreadsheet would run is defused"
    );
    let public = fetch(&app, &path, false).await.text().await.unwrap();
    assert_eq!(
        public, "page,pageviews,visitors\n(other),3,3\n",
        "/afval is folded too: the day's 3 visitors minus its 2 would tell the 1"
    );
    let aggregate = fetch(
        &app,
        &format!("aggregate?site_id={SITE}&period=day&metrics=visitors&format=csv"),
        false,
    )
    .await;
    assert_eq!(
        aggregate.text().await.unwrap(),
        "metric,value,change\nvisitors,3,\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_zip_holds_every_panel_of_the_period() {
    let app = seeded().await;
    let response = fetch(&app, &format!("export?site_id={SITE}&period=7d"), true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"{SITE}-"))
            && disposition.ends_with(".zip\""),
        "named after site and period: {disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    names.sort();
    for expected in [
        "aggregate.csv",
        "timeseries.csv",
        "pages.csv",
        "sources.csv",
        "countries.csv",
        "devices.csv",
        "events.csv",
        "link_targets.csv",
        "exit_pages.csv",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} in {names:?}"
        );
    }
    assert!(
        names.contains(&"consent.csv".to_owned()),
        "the site's own readers get consent choices"
    );
    let public = fetch(&app, &format!("export?site_id={SITE}&period=7d"), false).await;
    let public =
        zip::ZipArchive::new(std::io::Cursor::new(public.bytes().await.unwrap().to_vec())).unwrap();
    assert!(
        !public.file_names().any(|name| name == "consent.csv"),
        "consent choices are not public"
    );
    let mut pages = String::new();
    archive
        .by_name("pages.csv")
        .unwrap()
        .read_to_string(&mut pages)
        .unwrap();
    assert!(pages.starts_with("page,"), "{pages}");
    let header = pages.lines().next().unwrap();
    assert!(
        header.contains(",scroll_depth,") && header.contains(",time_on_page,"),
        "each page's engagement in the pages file: {header}"
    );
    // For the dashboard in Dutch, every panel in the Dutch Excel form.
    let dutch = fetch(
        &app,
        &format!("export?site_id={SITE}&period=7d&lang=nl"),
        true,
    )
    .await;
    let mut dutch =
        zip::ZipArchive::new(std::io::Cursor::new(dutch.bytes().await.unwrap().to_vec())).unwrap();
    let mut dutch_pages = String::new();
    dutch
        .by_name("pages.csv")
        .unwrap()
        .read_to_string(&mut dutch_pages)
        .unwrap();
    assert!(
        dutch_pages.starts_with("\u{feff}Pagina;Bezoekers;Bezoeken;Weergaven;"),
        "{dutch_pages}"
    );
    assert!(pages.contains("/afval,"));
    let mut links = String::new();
    archive
        .by_name("link_targets.csv")
        .unwrap()
        .read_to_string(&mut links)
        .unwrap();
    assert!(links.contains(&format!("{SITE}/kalender.pdf")), "{links}");
    let mut keys = String::new();
    archive
        .by_name("event_properties.csv")
        .unwrap()
        .read_to_string(&mut keys)
        .unwrap();
    assert_eq!(keys, "prop_key,events\nurl,1\n", "the property keys");
    let mut timeseries = String::new();
    archive
        .by_name("timeseries.csv")
        .unwrap()
        .read_to_string(&mut timeseries)
        .unwrap();
    assert_eq!(
        timeseries.lines().count(),
        8,
        "a header and seven days: {timeseries}"
    );

    let bad = fetch(
        &app,
        &format!("export?site_id={SITE}&period=fortnight"),
        true,
    )
    .await;
    assert_eq!(bad.status(), 400);
    // What the aggregate endpoint refuses in the same parameters, the
    // export refuses too.
    for refused in ["metrics=nonsense", "compare=yesterday", "interval=minute"] {
        let path = format!("export?site_id={SITE}&period=7d&{refused}");
        assert_eq!(fetch(&app, &path, true).await.status(), 400, "{refused}");
    }
    let foreign = fetch(&app, "export?site_id=elders.example&period=7d", true).await;
    assert_eq!(foreign.status(), 401);
}

/// Paths that a spreadsheet would run as formulas, read on `,` or on `;`.
const HOSTILE: [&str; 3] = ["/x;=1+1;", "/a,@SUM(1)", "/-2+3"];

/// Every cell a spreadsheet could make of `text`, split on `,`, `;` or a
/// tab: honouring quotes at the start of a cell (as Excel does), and
/// ignoring them altogether.
fn cells_in_every_reading(text: &str) -> Vec<String> {
    let mut cells = Vec::new();
    for delimiter in [b',', b';', b'\t'] {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for record in reader.records().flatten() {
            cells.extend(record.iter().map(str::to_owned));
        }
        for line in text.split(['\n', '\r']) {
            let naive = line.split(char::from(delimiter));
            cells.extend(naive.map(|cell| cell.trim_start_matches('"').to_owned()));
        }
    }
    cells
}

fn assert_no_formula(name: &str, text: &str) {
    for cell in cells_in_every_reading(text) {
        let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(
            !formula || cell.parse::<f64>().is_ok(),
            "{name}: the cell {cell:?} would run in\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_run_no_formula_in_comma_or_semicolon_spreadsheets_and_numbers_stay_numbers() {
    let sites = format!(
        r#"[{{ id = "{SITE}", k_anonymity = 2, tokens = ["{}"] }}]"#,
        TokenHash::of_token(TOKEN).stored_form()
    );
    let app = TestApp::spawn_with(&[("KRUIMEL_SITES", &sites)], "2026-11-22T10:00:00Z").await;
    let send = |ip: String, page: &str| {
        let body = json!({ "n": "pageview", "u": format!("https://{SITE}{page}"), "d": SITE });
        let app = &app;
        async move {
            assert_eq!(
                app.send(&ip, FIREFOX, &body.to_string()).await.status(),
                202
            )
        }
    };
    for n in 0..4 {
        send(format!("81.205.{n}.1"), "/afval").await;
    }
    app.wait_for_events(4, "period=day").await;
    app.set_time("2026-11-23T10:00:00Z");
    for (n, page) in HOSTILE.iter().enumerate() {
        send(format!("81.206.{n}.1"), page).await;
    }
    app.wait_for_events(3, "period=day").await;

    let pages = fetch(
        &app,
        &format!(
            "breakdown?site_id={SITE}&period=day&property=event:page&metrics=visitors&format=csv"
        ),
        true,
    )
    .await
    .text()
    .await
    .unwrap();
    assert_no_formula("pages", &pages);
    let mut read: Vec<String> = csv::Reader::from_reader(pages.as_bytes())
        .records()
        .map(|record| record.unwrap()[0].to_owned())
        .collect();
    read.sort();
    assert_eq!(
        read,
        ["/-2+3", "/a,'@SUM(1)", "/x;'=1+1;"],
        "each path one cell, defused where a cell could start: {pages}"
    );

    // An hour on, so that the hour of both days' visits is whole.
    app.set_time("2026-11-23T11:00:00Z");
    let change = fetch(
        &app,
        &format!("aggregate?site_id={SITE}&period=day&metrics=visitors&compare=previous_period&format=csv"),
        true,
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(
        change, "metric,value,change\nvisitors,3,-25.0\n",
        "a fall of 25 % stays a number"
    );

    let zip = fetch(&app, &format!("export?site_id={SITE}&period=7d"), true).await;
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    for name in names {
        let mut text = String::new();
        archive
            .by_name(&name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_no_formula(&name, &text);
        if name == "pages.csv" || name == "entry_pages.csv" {
            assert!(text.contains("\"/x;'=1+1;\""), "{name}: {text}");
        }
    }
}
