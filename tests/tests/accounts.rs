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
    let response = admin
        .post("/api/users", json!({"email": email, "displayName": email, "role": role, "password": ADMIN_PASSWORD}))
        .await;
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

/// One row per kind of route: what it needs, and a request that succeeds
/// when allowed.
struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// The permission it needs; `None` for any signed-in user.
    needs: Option<&'static str>,
    ok: StatusCode,
}

fn routes() -> Vec<Route> {
    let route = |method, path, body, needs, ok| Route { method, path, body, needs, ok };
    vec![
        route(Method::GET, "/api/session", None, None, StatusCode::OK),
        route(Method::GET, "/api/destinations", None, Some("VIEW_ALERTS"), StatusCode::OK),
        route(Method::GET, "/api/users", None, Some("MANAGE_USERS"), StatusCode::OK),
        route(
            Method::POST,
            "/api/users",
            Some(json!({"email": "new-{n}@acme.example", "displayName": "New", "role": "VIEWER", "password": ADMIN_PASSWORD})),
            Some("MANAGE_USERS"),
            StatusCode::CREATED,
        ),
        route(Method::PATCH, "/api/users/{viewer}", Some(json!({"displayName": "Vic"})), Some("MANAGE_USERS"), StatusCode::OK),
        route(Method::GET, "/api/tokens", None, Some("MANAGE_API_TOKENS"), StatusCode::OK),
        route(Method::POST, "/api/tokens", Some(json!({"name": "pipeline {n}"})), Some("MANAGE_API_TOKENS"), StatusCode::CREATED),
        route(Method::DELETE, "/api/tokens/{token}", None, Some("MANAGE_API_TOKENS"), StatusCode::OK),
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
        let body = |n: i32| route.body.as_ref().map(|b| serde_json::from_str::<Value>(&b.to_string().replace("{n}", &n.to_string())).unwrap());

        // Nobody signed in.
        let mut anonymous = herald.http.request(route.method.clone(), herald.url(&path)).header("X-Requested-With", "Herald");
        if let Some(body) = body(0) {
            anonymous = anonymous.json(&body);
        }
        let (status, error) = error_of(anonymous.send().await.unwrap()).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{} {path}", route.method);

        for (role, session) in &sessions {
            n += 1;
            let me: Value = session.get("/api/session").await.json().await.unwrap();
            let allowed = route.needs.is_none_or(|p| me["permissions"].as_array().unwrap().contains(&json!(p)));
            let mut request = session.request(route.method.clone(), &path);
            if let Some(body) = body(n) {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            if allowed {
                assert_eq!(response.status(), route.ok, "{role} {} {path}", route.method);
            } else {
                let (status, error) = error_of(response).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} {} {path}", route.method);
                assert!(error["message"].as_str().unwrap().contains("Ask an admin"), "{error}");
            }
        }
    }
    // The table's rows match the roles' permissions as the product names them.
    let analyst: Value = sessions[1].1.get("/api/session").await.json().await.unwrap();
    assert_eq!(analyst["permissions"], json!(["VIEW_ALERTS", "MANAGE_ALERTS"]));
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

    let forged_sign_in = herald
        .http
        .post(herald.url("/api/session"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_sign_in.status(), StatusCode::FORBIDDEN);

    let same_origin = admin.request(Method::POST, "/api/tokens").header("origin", &herald.base_url).json(&json!({"name": "ok"}));
    assert_eq!(same_origin.send().await.unwrap().status(), StatusCode::CREATED);
    let tokens: Value = admin.get("/api/tokens").await.json().await.unwrap();
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 1, "only the same-origin call made a token");
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

    let unknown_role = admin.post("/api/users", json!({"email": "x@acme.example", "displayName": "X", "role": "ROOT", "password": ADMIN_PASSWORD})).await;
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
