//! `herald migrate-db`: a SQLite deployment moved to PostgreSQL. These run
//! with Herald on SQLite first and always copy into a scratch PostgreSQL
//! database; `cargo xtask test` runs them in its first pass only.

use std::process::Command;

use herald_server::settings::DatabaseUrl;
use herald_tests::fake_slack::defaults;
use herald_tests::fixtures::slack_bot;
use herald_tests::herald::{ADMIN_EMAIL, ADMIN_PASSWORD};
use herald_tests::replicas::herald_binary;
use herald_tests::{FakeSlack, Herald, Session, database, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn migrate_db_copies_every_kind_of_row_and_herald_on_postgres_serves_them_and_unseals_the_secrets() {
    let slack = FakeSlack::start().await;
    let mut herald = Herald::start(&slack).await;
    let DatabaseUrl::Sqlite(sqlite) = herald.settings().database.clone() else {
        panic!("this test moves a SQLite deployment: run it with HERALD_TEST_BACKEND=sqlite (the default)");
    };

    // Every kind of row: users and a session, an API token, a destination
    // with its Slack app's sealed secrets, alerts delivered, history (a
    // status change, a comment) and its thread replies in the outbox.
    let admin = herald.sign_in_as_admin().await;
    let created = admin
        .post(
            "/api/users",
            json!({"email": "raj@acme.example", "displayName": "Raj", "role": "VIEWER", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let destination = admin.add_destination(&slack_bot("SecOps", "#general")).await;
    let token = admin.api_token().await;
    for id in ["a1", "a2"] {
        let sent =
            herald.send_alerts(&token, &json!({"alertId": id, "title": format!("Login {id}"), "severity": "HIGH", "tags": ["t"]})).await;
        assert!(sent.status().is_success());
    }
    poll::until("both messages", || async { if slack.messages_in(defaults::GENERAL).len() >= 2 { Ok(()) } else { Err("not yet") } }).await;
    assert_eq!(admin.patch("/api/alerts/a1", json!({"status": "TRIAGED"})).await.status(), StatusCode::OK);
    assert_eq!(admin.post("/api/alerts/a1/comments", json!({"comment": "Checked with Raj"})).await.status(), StatusCode::CREATED);
    poll::until("the reply in the thread", || async {
        if slack.messages_in(defaults::GENERAL).iter().any(|m| m.thread_ts.is_some()) { Ok(()) } else { Err("not yet") }
    })
    .await;
    let before_destinations: Value = admin.get("/api/destinations").await.json().await.unwrap();
    let before_alert: Value = admin.get("/api/alerts/a1").await.json().await.unwrap();
    let before_users: Value = admin.get("/api/users").await.json().await.unwrap();
    herald.pause().await;

    let target = database::scratch_postgres().await;
    let migrate = |to: &str| Command::new(herald_binary()).args(["migrate-db", "--from", &sqlite, "--to", to]).output().unwrap();
    let out = migrate(&target.url);
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    println!("{printed}");
    for (table, rows) in [("users", 2), ("destinations", 1), ("slack_apps", 1), ("alerts", 2), ("alert_activity", 2), ("api_tokens", 1)] {
        assert!(printed.lines().any(|l| l.split_whitespace().eq([table, &rows.to_string()])), "{table} {rows}: {printed}");
    }
    let again = migrate(&target.url);
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && refused.contains("holds data already"), "a second copy is refused: {refused}");

    // The same key file, the PostgreSQL database.
    let mut settings = herald.settings().clone();
    settings.database = DatabaseUrl::Postgres(target.url.clone());
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let listener = tokio::net::TcpListener::bind(settings.bind).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(herald_server::run(listener, settings, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let signed_in = http
        .post(format!("{base}/api/session"))
        .header("X-Requested-With", "Herald")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK, "the admin's password hash was copied");
    let on_postgres = Session::from_response_at(&base, &http, &signed_in);
    let after_destinations: Value = on_postgres.get("/api/destinations").await.json().await.unwrap();
    let after_alert: Value = on_postgres.get("/api/alerts/a1").await.json().await.unwrap();
    let after_users: Value = on_postgres.get("/api/users").await.json().await.unwrap();
    assert_eq!(after_destinations, before_destinations);
    assert_eq!(after_alert, before_alert, "the alert, its deliveries and its history");
    assert_eq!(after_users, before_users);
    // The bot token unseals: a new alert reaches Slack.
    let body = json!({"alertId": "a3", "title": "After the move", "severity": "HIGH"});
    let sent = http.post(format!("{base}/api/alerts")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert!(sent.status().is_success(), "the API token was copied: {}", sent.status());
    poll::until("the new alert in Slack", || async {
        let texts: Vec<String> = slack.messages_in(defaults::GENERAL).iter().filter_map(|m| m.text.clone()).collect();
        if texts.iter().any(|t| t.contains("After the move")) { Ok(()) } else { Err(texts) }
    })
    .await;
    let moved: Value = on_postgres.get(&format!("/api/destinations/{destination}")).await.json().await.unwrap();
    assert_eq!(moved["status"], "ACTIVE");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
