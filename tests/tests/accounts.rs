//! Accounts and access over real HTTP: signing in and out, sessions that
//! end, what each role may reach, CSRF, API tokens, the last admin.

use herald_tests::herald::{ADMIN_EMAIL, ADMIN_PASSWORD};
use herald_tests::{FakeSlack, Herald, Session, poll};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn herald() -> (FakeSlack, Herald) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    (slack, herald)
}

async fn error_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON error body");
    (status, body["error"].clone())
}

/// Creates a user through the API as `admin`; returns their ID.
async fn create_user(admin: &Session, email: &str, role: &str) -> String {
    let response = admin.post("/api/users", json!({"email": email, "displayName": email, "role": role, "password": ADMIN_PASSWORD})).await;
    assert_eq!(response.status(), StatusCode::CREATED, "creating {email}");
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn signing_in_sets_a_strict_session_cookie_and_tells_who_is_signed_in() {
    let (_slack, herald) = herald().await;
    let response = herald.try_sign_in("Admin@ACME.example", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK, "emails match without regard to case");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("herald_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http cannot carry Secure cookies: {cookie}");
    let session = Session::from_response(&herald, &response);
    let me: Value = session.get("/api/session").await.json().await.unwrap();
    assert_eq!(me["user"]["email"], ADMIN_EMAIL);
    assert_eq!(me["user"]["role"], "ADMIN");
    assert_eq!(me["permissions"].as_array().unwrap().len(), 5);
    assert!(me["user"].get("passwordHash").is_none() && !me.to_string().contains("argon2"));
}

#[tokio::test]
async fn the_cookie_is_secure_when_herald_is_served_over_https() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.public_url = Some("https://herald.acme.example".parse().unwrap())).await;
    let response = herald.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let (_slack, herald) = herald().await;
    let wrong_password = error_of(herald.try_sign_in(ADMIN_EMAIL, "not the password at all").await).await;
    let unknown_email = error_of(herald.try_sign_in("nobody@acme.example", ADMIN_PASSWORD).await).await;
    assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password.1["message"], "The email or password is not right.");
}

#[tokio::test]
async fn a_session_ends_when_its_time_is_up() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.session_ttl = std::time::Duration::from_secs(1)).await;
    let admin = herald.sign_in_as_admin().await;
    assert_eq!(admin.get("/api/session").await.status(), StatusCode::OK);
    poll::until("the one-second session to expire", || async {
        match admin.get("/api/session").await.status() {
            StatusCode::UNAUTHORIZED => Ok(()),
            other => Err(other),
        }
    })
    .await;
    let (_, error) = error_of(admin.get("/api/destinations").await).await;
    assert_eq!(error["code"], "unauthenticated");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_clears_the_cookie() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let response = admin.delete("/api/session").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(admin.get("/api/session").await.status(), StatusCode::UNAUTHORIZED, "the old cookie opens nothing");
}

/// One row per kind of route: who may use it (written out, not asked of
/// the server), and a request that succeeds when allowed.
struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    allowed: &'static [&'static str],
    ok: StatusCode,
}

const EVERYONE: &[&str] = &["ADMIN", "ANALYST", "VIEWER"];
const ADMINS: &[&str] = &["ADMIN"];

fn routes() -> Vec<Route> {
    let route = |method, path, body, allowed, ok| Route { method, path, body, allowed, ok };
    vec![
        route(Method::GET, "/api/session", None, EVERYONE, StatusCode::OK),
        // View Alerts: every role.
        route(Method::GET, "/api/destinations", None, EVERYONE, StatusCode::OK),
        // Manage Users: admins only.
        route(Method::GET, "/api/users", None, ADMINS, StatusCode::OK),
        route(
            Method::POST,
            "/api/users",
            Some(json!({"email": "new-{n}@acme.example", "displayName": "New", "role": "VIEWER", "password": ADMIN_PASSWORD})),
            ADMINS,
            StatusCode::CREATED,
        ),
        route(Method::PATCH, "/api/users/{viewer}", Some(json!({"displayName": "Vic"})), ADMINS, StatusCode::OK),
        // Manage Destinations: admins only.
        route(Method::GET, "/api/slack/manifest", None, ADMINS, StatusCode::OK),
        route(Method::POST, "/api/destinations", Some(json!({"kind": "SLACK_BOT"})), ADMINS, StatusCode::CREATED),
        route(Method::GET, "/api/timezones", None, EVERYONE, StatusCode::OK),
        // Manage API Tokens: admins only.
        route(Method::GET, "/api/tokens", None, ADMINS, StatusCode::OK),
        route(Method::POST, "/api/tokens", Some(json!({"name": "pipeline {n}"})), ADMINS, StatusCode::CREATED),
        route(Method::DELETE, "/api/tokens/{token}", None, ADMINS, StatusCode::OK),
    ]
}

#[tokio::test]
async fn each_role_reaches_exactly_the_routes_its_permissions_allow() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let viewer_id = create_user(&admin, "viewer@acme.example", "VIEWER").await;
    create_user(&admin, "analyst@acme.example", "ANALYST").await;
    let token_id = admin.post("/api/tokens", json!({"name": "to revoke"})).await.json::<Value>().await.unwrap()["token"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let sessions = [
        ("ADMIN", admin.clone()),
        ("ANALYST", herald.sign_in("analyst@acme.example", ADMIN_PASSWORD).await),
        ("VIEWER", herald.sign_in("viewer@acme.example", ADMIN_PASSWORD).await),
    ];
    let mut n = 0;
    for route in routes() {
        let path = route.path.replace("{viewer}", &viewer_id).replace("{token}", &token_id);
        let body =
            |n: i32| route.body.as_ref().map(|b| serde_json::from_str::<Value>(&b.to_string().replace("{n}", &n.to_string())).unwrap());

        // Nobody signed in.
        let mut anonymous = herald.http.request(route.method.clone(), herald.url(&path)).header("X-Requested-With", "Herald");
        if let Some(body) = body(0) {
            anonymous = anonymous.json(&body);
        }
        let (status, error) = error_of(anonymous.send().await.unwrap()).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{} {path}", route.method);

        for (role, session) in &sessions {
            n += 1;
            let allowed = route.allowed.contains(role);
            let mut request = session.request(route.method.clone(), &path);
            if let Some(body) = body(n) {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            if allowed {
                assert_eq!(response.status(), route.ok, "{role} {} {path}", route.method);
            } else {
                let (status, error) = error_of(response).await;
                assert_eq!((status, error["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{role} {} {path}", route.method);
                assert!(error["message"].as_str().unwrap().contains("Ask an admin"), "{error}");
            }
        }
    }
    // What each role is told it may do, as the product names it.
    for (role, permissions) in [
        ("ADMIN", json!(["VIEW_ALERTS", "MANAGE_ALERTS", "MANAGE_DESTINATIONS", "MANAGE_USERS", "MANAGE_API_TOKENS"])),
        ("ANALYST", json!(["VIEW_ALERTS", "MANAGE_ALERTS"])),
        ("VIEWER", json!(["VIEW_ALERTS"])),
    ] {
        let session = &sessions.iter().find(|(r, _)| *r == role).unwrap().1;
        let me: Value = session.get("/api/session").await.json().await.unwrap();
        assert_eq!(me["permissions"], permissions, "{role}");
    }
}

#[tokio::test]
async fn a_state_change_without_herald_s_header_or_from_another_site_is_refused() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let url = herald.url("/api/tokens");

    // What a form on another site can send: the cookie, a form body, its Origin.
    let forged = herald
        .http
        .post(&url)
        .header("cookie", &admin.cookie)
        .header("origin", "https://evil.example")
        .form(&[("name", "stolen")])
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(forged).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf")));

    let no_header = herald.http.post(&url).header("cookie", &admin.cookie).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(error_of(no_header).await.1["code"], "csrf");

    let other_origin = admin.request(Method::POST, "/api/tokens").header("origin", "https://evil.example").json(&json!({"name": "x"}));
    assert_eq!(error_of(other_origin.send().await.unwrap()).await.1["code"], "csrf");

    // A cookie plus some other Authorization (a proxy's Basic auth) is still a browser.
    let basic =
        herald.http.post(&url).header("cookie", &admin.cookie).header("authorization", "Basic dXNlcjpwdw==").json(&json!({"name": "x"}));
    let no_marker = herald
        .http
        .post(&url)
        .header("cookie", &admin.cookie)
        .header("authorization", "Bearer hrld_whatever")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(no_marker).await.1["code"], "csrf", "a bearer token does not excuse a session cookie");
    assert_eq!(basic.send().await.unwrap().status(), StatusCode::FORBIDDEN);

    let forged_sign_in =
        herald.http.post(herald.url("/api/session")).form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).send().await.unwrap();
    assert_eq!(forged_sign_in.status(), StatusCode::FORBIDDEN);

    let same_origin = admin.request(Method::POST, "/api/tokens").header("origin", &herald.base_url).json(&json!({"name": "ok"}));
    assert_eq!(same_origin.send().await.unwrap().status(), StatusCode::CREATED);
    // The same server reached as localhost: its own page sends its own origin.
    let port = herald.base_url.rsplit(':').next().unwrap();
    let as_localhost = admin
        .request(Method::POST, "/api/tokens")
        .header("host", format!("localhost:{port}"))
        .header("origin", format!("http://localhost:{port}"))
        .json(&json!({"name": "via localhost"}));
    assert_eq!(as_localhost.send().await.unwrap().status(), StatusCode::CREATED);
    let tokens: Value = admin.get("/api/tokens").await.json().await.unwrap();
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 2, "only the same-origin calls made tokens");
}

#[tokio::test]
async fn an_api_token_is_shown_once_works_as_a_bearer_token_and_stops_when_revoked() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let created = admin.post("/api/tokens", json!({"name": "detection pipeline"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hrld_"), "{secret}");
    assert_eq!(created["token"]["hint"], format!("hrld_…{}", &secret[secret.len() - 4..]));

    let listed = admin.get("/api/tokens").await.text().await.unwrap();
    assert!(!listed.contains(&secret), "the list never shows the secret");
    assert!(listed.contains("detection pipeline"));
    assert_eq!(serde_json::from_str::<Value>(&listed).unwrap()["tokens"][0]["lastUsedAt"], Value::Null);

    let used = herald.http.get(herald.url("/api/token")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::OK);
    assert_eq!(used.json::<Value>().await.unwrap()["name"], "detection pipeline");
    let listed: Value = admin.get("/api/tokens").await.json().await.unwrap();
    assert!(listed["tokens"][0]["lastUsedAt"].is_string(), "last use is shown: {listed}");

    let (status, error) = error_of(herald.http.get(herald.url("/api/token")).bearer_auth("hrld_madeup").send().await.unwrap()).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
    let (status, error) = error_of(herald.get("/api/token").await).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("missing_token")));

    let revoked = admin.delete(&format!("/api/tokens/{id}")).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(revoked.json::<Value>().await.unwrap()["revokedAt"].is_string());
    let after = herald.http.get(herald.url("/api/token")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(error_of(after).await.1["code"], "invalid_token");

    let (status, error) = error_of(admin.post("/api/tokens", json!({"name": "  "})).await).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
}

#[tokio::test]
async fn the_last_enabled_admin_cannot_be_demoted_or_disabled() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let me: Value = admin.get("/api/session").await.json().await.unwrap();
    let my_id = me["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/users/{my_id}");

    for change in [json!({"role": "VIEWER"}), json!({"enabled": false})] {
        let (status, error) = error_of(admin.patch(&path, change.clone()).await).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::CONFLICT, Some("last_admin")), "{change}");
    }
    let still: Value = admin.get("/api/session").await.json().await.unwrap();
    assert_eq!(still["user"]["role"], "ADMIN", "the refused change left nothing behind");

    let second = create_user(&admin, "second-admin@acme.example", "ADMIN").await;
    let demoted = admin.patch(&path, json!({"role": "ANALYST"})).await;
    assert_eq!(demoted.status(), StatusCode::OK, "with another admin, demotion is fine");

    let other = herald.sign_in("second-admin@acme.example", ADMIN_PASSWORD).await;
    let (status, _) = error_of(other.patch(&format!("/api/users/{second}"), json!({"enabled": false})).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "now the second admin is the last one");
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_stops_sign_in() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let id = create_user(&admin, "leaver@acme.example", "ANALYST").await;
    let leaver = herald.sign_in("leaver@acme.example", ADMIN_PASSWORD).await;
    assert_eq!(admin.patch(&format!("/api/users/{id}"), json!({"enabled": false})).await.status(), StatusCode::OK);
    assert_eq!(leaver.get("/api/session").await.status(), StatusCode::UNAUTHORIZED);
    let (status, error) = error_of(herald.try_sign_in("leaver@acme.example", ADMIN_PASSWORD).await).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::FORBIDDEN, Some("account_disabled")));
    let (status, error) = error_of(herald.try_sign_in("leaver@acme.example", "a wrong password here").await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials")),
        "without the password, a disabled account looks like any wrong guess"
    );
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let (_slack, herald) = herald().await;
    let first = herald.sign_in_as_admin().await;
    let first_id = first.get("/api/session").await.json::<Value>().await.unwrap()["user"]["id"].as_str().unwrap().to_owned();
    let second_id = create_user(&first, "second@acme.example", "ADMIN").await;
    let second = herald.sign_in("second@acme.example", ADMIN_PASSWORD).await;
    for round in 0..5 {
        // Restore two admins, then race.
        first.patch(&format!("/api/users/{second_id}"), json!({"role": "ADMIN"})).await;
        second.patch(&format!("/api/users/{first_id}"), json!({"role": "ADMIN"})).await;
        let path_first = format!("/api/users/{first_id}");
        let path_second = format!("/api/users/{second_id}");
        let (a, b) =
            tokio::join!(first.patch(&path_second, json!({"role": "VIEWER"})), second.patch(&path_first, json!({"role": "VIEWER"})),);
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        // One demotion wins; the other is refused, or comes from someone no
        // longer an admin.
        assert_eq!(statuses[0], StatusCode::OK, "round {round}: {statuses:?}");
        assert!(matches!(statuses[1], StatusCode::CONFLICT | StatusCode::FORBIDDEN), "round {round}: {statuses:?}");
        // Whoever demoted the other is the admin left.
        let users: Value = if a.status() == StatusCode::OK { first.get("/api/session").await } else { second.get("/api/session").await }
            .json()
            .await
            .unwrap();
        assert_eq!(users["user"]["role"], "ADMIN", "round {round}: someone is still an admin");
    }
}

#[tokio::test]
async fn new_users_are_checked_field_by_field_and_emails_are_unique_in_any_case() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let bad = admin.post("/api/users", json!({"email": "nope", "displayName": "", "role": "VIEWER", "password": "short"})).await;
    let (status, error) = error_of(bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = error["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "displayName", "password"]);

    let dup = admin
        .post("/api/users", json!({"email": "ADMIN@acme.example", "displayName": "Again", "role": "VIEWER", "password": ADMIN_PASSWORD}))
        .await;
    let (status, error) = error_of(dup).await;
    assert_eq!((status, error["field"].as_str()), (StatusCode::CONFLICT, Some("email")));

    let unknown_role =
        admin.post("/api/users", json!({"email": "x@acme.example", "displayName": "X", "role": "ROOT", "password": ADMIN_PASSWORD})).await;
    assert_eq!(unknown_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_slowed_down_without_revealing_the_account() {
    let (_slack, herald) = herald().await;
    for _ in 0..5 {
        assert_eq!(herald.try_sign_in(ADMIN_EMAIL, "wrong password, again").await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = herald.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    let (_, error) = error_of(limited).await;
    assert!(error["message"].as_str().unwrap().contains("Too many sign-in attempts"), "{error}");

    for _ in 0..5 {
        herald.try_sign_in("ghost@acme.example", "wrong password, again").await;
    }
    assert_eq!(
        herald.try_sign_in("ghost@acme.example", "wrong password, again").await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown account is limited the same way"
    );
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_slowed_down() {
    let (_slack, herald) = herald().await;
    let mut limited = None;
    for i in 0..40 {
        let response = herald.try_sign_in(&format!("guess{i}@acme.example"), "wrong password, again").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(i);
            break;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(limited, Some(30), "the 31st attempt from one address waits");
}

/// A sign-in as a browser behind a proxy sends it: the proxy adds the
/// client's address.
async fn sign_in_via_proxy(herald: &Herald, client: &str, email: &str, password: &str) -> reqwest::Response {
    herald
        .http
        .post(herald.url("/api/session"))
        .header("X-Requested-With", "Herald")
        .header("X-Forwarded-For", client)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_right_password_gets_through_an_address_that_others_exhausted_and_successes_spend_nothing() {
    let (_slack, herald) = herald().await;
    for i in 0..40 {
        let response = herald.try_sign_in(&format!("guess{i}@acme.example"), "wrong password, again").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(herald.try_sign_in("guess99@acme.example", "wrong").await.status(), StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..10 {
        assert_eq!(
            herald.try_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
            StatusCode::OK,
            "the admin signs in from the same address"
        );
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit_and_others_cannot_pretend() {
    let slack = FakeSlack::start().await;
    let proxy = herald_server::settings::TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()]);
    let proxied = Herald::start_with(&slack, |s| s.trusted_proxies = proxy).await;
    for _ in 0..31 {
        sign_in_via_proxy(&proxied, "203.0.113.5", "guess@acme.example", "wrong").await;
    }
    let other = sign_in_via_proxy(&proxied, "198.51.100.7", "someone@acme.example", "wrong").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED, "another client behind the proxy is not held back");
    // A client cannot hide behind a made-up hop: the proxy's own (rightmost) entry counts.
    let spoofed = sign_in_via_proxy(&proxied, "192.0.2.1, 203.0.113.5", "guess@acme.example", "wrong").await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);

    // Without trusted proxies the header is ignored: rotating it changes nothing.
    let (_slack, direct) = herald().await;
    for i in 0..30 {
        sign_in_via_proxy(&direct, &format!("203.0.113.{i}"), &format!("guess{i}@acme.example"), "wrong").await;
    }
    let rotated = sign_in_via_proxy(&direct, "198.51.100.99", "guess99@acme.example", "wrong").await;
    assert_eq!(rotated.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn with_a_public_url_only_its_host_and_origin_may_change_anything() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.public_url = Some("https://herald.acme.example".parse().unwrap())).await;
    let admin = herald.sign_in_as_admin().await;
    // DNS rebinding: a page at evil.example, resolved to Herald's address.
    let rebound = admin.request(Method::POST, "/api/tokens").header("host", "evil.example:8080").json(&json!({"name": "x"}));
    let (status, error) = error_of(rebound.send().await.unwrap()).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("HERALD_PUBLIC_URL"), "{error}");
    let own_address = format!("http://{}", herald.base_url.trim_start_matches("http://"));
    let other_origin = admin.request(Method::POST, "/api/tokens").header("origin", own_address).json(&json!({"name": "x"}));
    assert_eq!(error_of(other_origin.send().await.unwrap()).await.0, StatusCode::FORBIDDEN, "only the public URL's origin");

    let proxied = admin
        .request(Method::POST, "/api/tokens")
        .header("host", "herald.acme.example")
        .header("origin", "https://herald.acme.example")
        .json(&json!({"name": "fine"}));
    assert_eq!(proxied.send().await.unwrap().status(), StatusCode::CREATED, "as the proxy passes it on");
    let local = admin.request(Method::POST, "/api/tokens").json(&json!({"name": "local"}));
    assert_eq!(local.send().await.unwrap().status(), StatusCode::CREATED, "a proxy on the machine may name a loopback address");
}
