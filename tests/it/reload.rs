//! Reloading the configuration while beacons stream in: a site added, a
//! token rotated, the country database reopened, a broken configuration
//! refused, and nothing lost or counted twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use kruimel::config::TokenHash;
use serde_json::Value;

use crate::country::country_database;
use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp};

const NEW_SITE: &str = "nieuw.example";
const NEW_TOKEN: &str = "rotated-token-41c2";

/// The test sites as KRUIMEL_SITES, with the given token for SITE, and
/// optionally the new site and a time zone for SITE.
fn sites(token: &str, with_new_site: bool, zone: &str) -> String {
    let hash = |token: &str| TokenHash::of_token(token).stored_form();
    let mut sites = format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}", "www.{SITE}"], time_zone = "{zone}", tokens = ["{}"] }}, {{ id = "other.example", tokens = ["{}"] }}"#,
        hash(token),
        hash(TOKEN)
    );
    if with_new_site {
        sites.push_str(&format!(
            r#", {{ id = "{NEW_SITE}", tokens = ["{}"] }}"#,
            hash(NEW_TOKEN)
        ));
    }
    sites.push(']');
    sites
}

async fn reload(app: &TestApp, sites: String) -> (u16, Value) {
    *app.reload_env.lock().unwrap() = vec![("KRUIMEL_SITES".to_owned(), sites)];
    let response = app
        .client
        .post(format!("http://{}/reload", app.admin))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn events(app: &TestApp, site: &str, token: &str) -> (u16, i64) {
    let response = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/aggregate?site_id={site}&period=day&metrics=events",
            app.public
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["results"]["events"]["value"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloading_under_a_stream_of_beacons_loses_and_doubles_nothing() {
    let database = country_database().display().to_string();
    let app = Arc::new(
        TestApp::spawn_with(
            &[("KRUIMEL_GEOIP__DATABASE", database.as_str())],
            "2026-11-23T10:00:00Z",
        )
        .await,
    );
    let zone = "Europe/Amsterdam";
    let streaming = Arc::new(AtomicBool::new(true));
    let counted = Arc::new(AtomicI64::new(0));
    let stream = {
        let (app, streaming, counted) = (app.clone(), streaming.clone(), counted.clone());
        tokio::spawn(async move {
            let mut index = 0;
            while streaming.load(Ordering::Relaxed) {
                index += 1;
                let ip = format!("81.204.{}.{}", index % 200, index % 9);
                let url = format!("https://{SITE}/p{}", index % 7);
                let response = app.pageview(&ip, FIREFOX, &url, None).await;
                if response.status() == 202 && response.headers().get("x-kruimel-dropped").is_none()
                {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A new site: beacons for it count, its token reads them.
    let (status, body) = reload(&app, sites(TOKEN, true, zone)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["sites"].as_i64(), body["added"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(body["country_database"], true, "the database was reopened");
    let body =
        serde_json::json!({ "n": "pageview", "u": format!("https://{NEW_SITE}/"), "d": NEW_SITE });
    let response = app.send("81.204.99.1", FIREFOX, &body.to_string()).await;
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("x-kruimel-dropped").is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A rotated token: the old one stops working at once, the new one reads.
    let (status, body) = reload(&app, sites(NEW_TOKEN, true, zone)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(events(&app, SITE, TOKEN).await.0, 401);
    assert_eq!(events(&app, SITE, NEW_TOKEN).await.0, 200);

    // A broken configuration is refused whole; the running one stays.
    let (status, body) = reload(&app, sites(TOKEN, true, "Mars/Olympus_Mons")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "reload_rejected");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Mars/Olympus_Mons"),
        "{body}"
    );
    let (status, body) = reload(&app, sites(NEW_TOKEN, false, zone)).await;
    assert_eq!(status, 422, "removing a site needs a restart: {body}");
    assert_eq!(
        events(&app, SITE, NEW_TOKEN).await.0,
        200,
        "the old configuration stays"
    );
    assert_eq!(events(&app, SITE, TOKEN).await.0, 401);

    tokio::time::sleep(Duration::from_millis(200)).await;
    streaming.store(false, Ordering::Relaxed);
    stream.await.unwrap();
    let sent = counted.load(Ordering::Relaxed);
    assert!(sent > 50, "the stream ran: {sent}");
    let mut stored = (0, -1);
    for _ in 0..300 {
        stored = events(&app, SITE, NEW_TOKEN).await;
        if stored.1 == sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored, (200, sent), "every beacon counted once");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(events(&app, SITE, NEW_TOKEN).await, (200, sent));
    assert_eq!(events(&app, NEW_SITE, NEW_TOKEN).await, (200, 1));
}

/// SIGHUP rereads the configuration file of a running `kruimel serve`.
#[tokio::test]
async fn sighup_rereads_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kruimel.toml");
    let site = |id: &str, token: &str| {
        format!(
            "[[sites]]\nid = \"{id}\"\ntokens = [\"{}\"]\n",
            TokenHash::of_token(token).stored_form()
        )
    };
    std::fs::write(&file, site(SITE, TOKEN)).unwrap();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let (public, admin) = (free(), free());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .args(["serve", "--config"])
        .arg(&file)
        .env_clear()
        .env("KRUIMEL_SERVER__LISTEN", public.to_string())
        .env("KRUIMEL_SERVER__ADMIN_LISTEN", admin.to_string())
        .env("KRUIMEL_SERVER__DATA_DIR", dir.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    crate::helpers::wait_ready(&client, admin).await;
    let new_site_answers = || async {
        client
            .get(format!(
                "http://{public}/api/v1/stats/aggregate?site_id={NEW_SITE}&period=day&metrics=pageviews"
            ))
            .bearer_auth(NEW_TOKEN)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(new_site_answers().await, 401);

    std::fs::write(
        &file,
        format!("{}{}", site(SITE, TOKEN), site(NEW_SITE, NEW_TOKEN)),
    )
    .unwrap();
    let hangup = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    let mut status = reqwest::StatusCode::UNAUTHORIZED;
    for _ in 0..200 {
        status = new_site_answers().await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, 200,
        "the site added to the file is served after SIGHUP"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP does not stop the server"
    );
    let _ = child.kill();
    let _ = child.wait();
}
