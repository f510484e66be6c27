//! A fake Slack on loopback that behaves like the parts of Slack Herald uses:
//! the OAuth v2 authorize page and code exchange, the Web API methods
//! (answering HTTP 200 with `{"ok": false, "error": …}` and Slack's real
//! error codes), `response_url`s, and faults on demand (HTTP 429 with
//! `Retry-After`, 5xx, slowness). It keeps state — workspace, channels and
//! their members, users with emails, tokens, posted messages — so tests can
//! set a scene and read back what Herald sent. It can also act as a user:
//! send Herald a correctly signed interaction or event.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod socket_mode;
pub use socket_mode::{ACK_WITHIN, Envelope};

/// The workspace every fake Slack starts with.
pub mod defaults {
    pub const TEAM_ID: &str = "T0ACME0001";
    pub const TEAM_NAME: &str = "Acme Security";
    pub const TEAM_DOMAIN: &str = "acme-sec";
    pub const ENTERPRISE_ID: &str = "E0ACME0001";
    pub const ENTERPRISE_NAME: &str = "Acme Corp";
    pub const CLIENT_ID: &str = "1111111111.2222222222";
    pub const CLIENT_SECRET: &str = "0123456789abcdef0123456789abcdef";
    pub const SIGNING_SECRET: &str = "fedcba9876543210fedcba9876543210";
    pub const APP_ID: &str = "A0HERALD01";
    pub const BOT_USER_ID: &str = "U0BOT00001";
    pub const BOT_ID: &str = "B0BOT00001";
    pub const BOT_NAME: &str = "herald";
    /// A bot token with every scope Herald asks for.
    pub const BOT_TOKEN: &str = "xoxb-1111111111-2222222222-fakebottoken0001";
    /// An app-level token with `connections:write` (Socket Mode).
    pub const APP_TOKEN: &str = "xapp-1-A0HERALD01-3333333333-fakeapptoken0001";
    pub const ANA: &str = "U0ANA00001";
    pub const ANA_EMAIL: &str = "ana@acme.example";
    pub const RAJ: &str = "U0RAJ00001";
    pub const RAJ_EMAIL: &str = "raj@acme.example";
    /// Public, the bot is not a member.
    pub const SEC_ALERTS: &str = "C0ALERTS01";
    /// Public, the bot is a member.
    pub const GENERAL: &str = "C0GENERAL1";
    /// Private, the bot is not a member.
    pub const INCIDENT_ROOM: &str = "G0INCIDENT";
    pub const SCOPES: &str = "chat:write,chat:write.public,im:write,channels:read,groups:read,users:read,users:read.email";
    /// The workspace's user groups: @sec-oncall and @platform.
    pub const SEC_ONCALL: &str = "S0SECONCALL1";
    pub const PLATFORM: &str = "S0PLATFORM01";
}

/// Something to go wrong with the next call of one method.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 429, `Retry-After: secs`, `{"ok": false, "error": "ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// A bare HTTP status, such as 500 or 503.
    Status(u16),
    /// HTTP 200 with `{"ok": false, "error": code}`.
    Error(&'static str),
    /// Wait this long, then answer normally.
    Delay(Duration),
}

/// What the authorize page does with the next install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// The user clicks Allow on a workspace.
    Approve,
    /// An Enterprise Grid admin installs the app org-wide (`team: null`).
    ApproveOrgWide,
    /// The user clicks Cancel: back with `?error=access_denied`.
    Deny,
}

/// One Web API call as the fake received it.
#[derive(Debug, Clone)]
pub struct Call {
    /// When the fake received it.
    pub at: Instant,
    pub method: String,
    pub token: Option<String>,
    /// Form fields or JSON body, merged with the query string.
    pub params: Map<String, Value>,
}

/// A message in a channel, as Slack would store it.
#[derive(Debug, Clone)]
pub struct Message {
    /// When the fake received it.
    pub at: Instant,
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    /// Whoever posted it (the bot's user ID for Herald's messages).
    pub user: String,
    /// How many times `chat.update` changed it.
    pub edits: u32,
}

#[derive(Debug, Clone)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub text: Option<String>,
    pub blocks: Option<Value>,
}

/// A post Herald made to a `response_url`.
#[derive(Debug, Clone)]
pub struct ResponsePost {
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub is_private: bool,
    pub is_archived: bool,
    pub members: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// Their own workspace: another one for a Slack Connect guest.
    pub team_id: String,
    pub is_bot: bool,
    pub deleted: bool,
    /// `is_restricted`: a multi-channel guest.
    pub guest: bool,
    pub email_confirmed: bool,
}

impl User {
    fn new(id: &str, name: &str, email: Option<&str>) -> User {
        User {
            id: id.into(),
            name: name.into(),
            email: email.map(Into::into),
            team_id: defaults::TEAM_ID.into(),
            is_bot: false,
            deleted: false,
            guest: false,
            email_confirmed: true,
        }
    }
}

#[derive(Debug, Clone)]
struct App {
    client_secret: String,
    /// Redirect URLs from the manifest; empty accepts any.
    redirect_urls: Vec<String>,
    token_rotation: bool,
    /// How long rotating tokens live (Slack: 12 hours).
    token_lifetime_secs: u64,
}

#[derive(Debug, Clone)]
struct Token {
    org_wide: bool,
    scopes: String,
    revoked: bool,
    expires_at: Option<Instant>,
    /// The workspace it belongs to, when not [`defaults::TEAM_ID`].
    team_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    redirect_uri: String,
    scopes: String,
    org_wide: bool,
    issued: Instant,
    used: bool,
}

#[derive(Debug, Clone)]
struct ResponseUrl {
    channel: String,
    message_ts: Option<String>,
    issued: Instant,
    uses: u32,
}

#[derive(Default)]
struct World {
    apps: HashMap<String, App>,
    tokens: HashMap<String, Token>,
    /// Refresh token → (client_id, scopes, org_wide) of the grant it renews.
    refresh_tokens: HashMap<String, (String, String, bool)>,
    codes: HashMap<String, Code>,
    channels: BTreeMap<String, Channel>,
    users: BTreeMap<String, User>,
    messages: Vec<Message>,
    ephemerals: Vec<Ephemeral>,
    views: Vec<Value>,
    triggers: HashMap<String, (Instant, bool)>,
    response_urls: HashMap<String, ResponseUrl>,
    response_posts: Vec<ResponsePost>,
    calls: Vec<Call>,
    faults: HashMap<String, VecDeque<Fault>>,
    authorize_outcome: Option<AuthorizeOutcome>,
    serial: u64,
    /// Benchmarks: keep only when each message arrived and its text.
    lean: bool,
    arrivals: Vec<(Instant, String)>,
    /// Added to every Web API answer.
    latency: Duration,
    /// Slack's per-channel limit: a post sooner than this after the last
    /// one to the same channel is answered 429.
    channel_gap: Option<Duration>,
    last_post: HashMap<String, Instant>,
    /// Every 429 the channel limit gave: when, and to which channel.
    limited: Vec<(Instant, String)>,
    /// `host:port` the fake listens on, for the URLs it hands out.
    host: String,
    sockets: socket_mode::Sockets,
    /// User groups: (ID, handle, name).
    user_groups: Vec<(String, String, String)>,
}

impl World {
    /// What every interaction payload of `kind` starts with: who acted,
    /// in which app and workspace.
    fn interaction(&self, kind: &str, user: &str) -> Value {
        let user_name = self.users.get(user).map(|u| u.name.clone()).unwrap_or_default();
        json!({
            "type": kind,
            "user": {"id": user, "username": user_name, "team_id": defaults::TEAM_ID},
            "api_app_id": defaults::APP_ID,
            "team": {"id": defaults::TEAM_ID, "domain": defaults::TEAM_DOMAIN},
        })
    }

    fn next(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }
}

type Shared = Arc<Mutex<World>>;

/// A running fake Slack. Dropping it stops the server.
pub struct FakeSlack {
    addr: SocketAddr,
    world: Shared,
    server: JoinHandle<()>,
    /// Socket Mode's retries of unacknowledged envelopes.
    retries: JoinHandle<()>,
    http: reqwest::Client,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.server.abort();
        self.retries.abort();
    }
}

impl FakeSlack {
    /// Starts on a free loopback port with the workspace in [`defaults`].
    pub async fn start() -> FakeSlack {
        use defaults::*;
        let mut world = World::default();
        world.apps.insert(
            CLIENT_ID.into(),
            App { client_secret: CLIENT_SECRET.into(), redirect_urls: Vec::new(), token_rotation: false, token_lifetime_secs: 43_200 },
        );
        world
            .tokens
            .insert(BOT_TOKEN.into(), Token { org_wide: false, scopes: SCOPES.into(), revoked: false, expires_at: None, team_id: None });
        world.users.insert(BOT_USER_ID.into(), User { is_bot: true, ..User::new(BOT_USER_ID, BOT_NAME, None) });
        world.sockets.add_app_token(APP_TOKEN);
        world.user_groups = [(SEC_ONCALL, "sec-oncall", "Security on-call"), (PLATFORM, "platform", "Platform team")]
            .map(|(id, handle, name)| (id.to_owned(), handle.to_owned(), name.to_owned()))
            .to_vec();
        for (id, name, email) in [(ANA, "ana", ANA_EMAIL), (RAJ, "raj", RAJ_EMAIL)] {
            world.users.insert(id.into(), User::new(id, name, Some(email)));
        }
        for (id, name, private, bot_in) in
            [(SEC_ALERTS, "sec-alerts", false, false), (GENERAL, "general", false, true), (INCIDENT_ROOM, "incident-room", true, false)]
        {
            let mut members: HashSet<String> = [ANA.to_owned(), RAJ.to_owned()].into();
            if bot_in {
                members.insert(BOT_USER_ID.into());
            }
            world
                .channels
                .insert(id.into(), Channel { id: id.into(), name: name.into(), is_private: private, is_archived: false, members });
        }

        let world = Arc::new(Mutex::new(world));
        let router = Router::new()
            .route("/oauth/v2/authorize", get(authorize))
            .route("/api/{method}", post(web_api).get(web_api))
            .route("/response/{id}", post(response_url))
            .route("/link/", get(socket_mode::link))
            .with_state(world.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding the fake Slack");
        let addr = listener.local_addr().unwrap();
        world.lock().unwrap().host = addr.to_string();
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("fake Slack server");
        });
        let retries = tokio::spawn(socket_mode::retry_unacknowledged(world.clone()));
        FakeSlack { addr, world, server, retries, http: reqwest::Client::new() }
    }

    /// For `HERALD_SLACK_API_URL`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// For `HERALD_SLACK_AUTHORIZE_URL`.
    pub fn authorize_url(&self) -> String {
        format!("http://{}/oauth/v2/authorize", self.addr)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    // ---- setting the scene ----

    /// Adds a channel with Ana and Raj in it; returns its ID.
    pub fn add_channel(&self, name: &str, is_private: bool) -> String {
        let mut world = self.world();
        let id = format!("{}{:08}", if is_private { 'G' } else { 'C' }, world.next());
        let members = [defaults::ANA.to_owned(), defaults::RAJ.to_owned()].into();
        world.channels.insert(id.clone(), Channel { id: id.clone(), name: name.into(), is_private, is_archived: false, members });
        id
    }

    pub fn archive_channel(&self, channel: &str) {
        self.world().channels.get_mut(channel).expect("no such channel").is_archived = true;
    }

    pub fn unarchive_channel(&self, channel: &str) {
        self.world().channels.get_mut(channel).expect("no such channel").is_archived = false;
    }

    /// Adds a user (with an email, or none to model a hidden one); returns the ID.
    pub fn add_user(&self, name: &str, email: Option<&str>) -> String {
        let mut world = self.world();
        let id = format!("U{:09}", world.next());
        world.users.insert(id.clone(), User::new(&id, name, email));
        id
    }

    /// Changes what Slack says of a user (guest, bot, another team, …).
    pub fn edit_user(&self, id: &str, edit: impl FnOnce(&mut User)) {
        edit(self.world().users.get_mut(id).expect("no such user"));
    }

    /// Puts a user (or the bot, [`defaults::BOT_USER_ID`]) in a channel.
    pub fn join(&self, channel: &str, user: &str) {
        self.world().channels.get_mut(channel).expect("no such channel").members.insert(user.into());
    }

    pub fn channel(&self, channel: &str) -> Channel {
        self.world().channels.get(channel).cloned().expect("no such channel")
    }

    /// As when a workspace admin revokes the token or uninstalls the app.
    pub fn revoke_token(&self, token: &str) {
        self.world().tokens.get_mut(token).expect("no such token").revoked = true;
    }

    /// Replaces a token's scopes (comma-separated), as reinstalling the app
    /// with another manifest would.
    pub fn set_scopes(&self, token: &str, scopes: &str) {
        self.world().tokens.get_mut(token).expect("no such token").scopes = scopes.into();
    }

    /// Makes a token expire now (as a rotating token does after 12 hours).
    pub fn expire_token(&self, token: &str) {
        self.world().tokens.get_mut(token).expect("no such token").expires_at = Some(Instant::now());
    }

    /// Registers another Slack app.
    pub fn add_app(&self, client_id: &str, client_secret: &str) {
        self.world().apps.insert(
            client_id.into(),
            App { client_secret: client_secret.into(), redirect_urls: Vec::new(), token_rotation: false, token_lifetime_secs: 43_200 },
        );
    }

    /// Registers another bot token with every scope (another app's bot).
    pub fn add_bot_token(&self, token: &str) {
        self.world().tokens.insert(
            token.into(),
            Token { org_wide: false, scopes: defaults::SCOPES.into(), revoked: false, expires_at: None, team_id: None },
        );
    }

    /// A bot token of the same app installed in another workspace.
    pub fn add_bot_token_of_team(&self, token: &str, team_id: &str) {
        self.world().tokens.insert(
            token.into(),
            Token { org_wide: false, scopes: defaults::SCOPES.into(), revoked: false, expires_at: None, team_id: Some(team_id.into()) },
        );
    }

    /// Every Web API answer from now on comes `latency` late (Slack on a
    /// bad day).
    pub fn set_latency(&self, latency: Duration) {
        self.world().latency = latency;
    }

    /// Limits `chat.postMessage` as Slack does: one message per `gap` per
    /// channel; a faster one is answered HTTP 429 with `Retry-After: 1`.
    pub fn limit_channels(&self, gap: Duration) {
        self.world().channel_gap = Some(gap);
    }

    /// The 429s the channel limit gave, by channel.
    pub fn rate_limited_in(&self, channel: &str) -> usize {
        self.world().limited.iter().filter(|(_, c)| c == channel).count()
    }

    /// The direct-message channel between the bot and `user`, once the bot
    /// has written to them.
    pub fn dm_channel(user: &str) -> String {
        format!("D{}", user.trim_start_matches(['U', 'W']))
    }

    /// A `view_submission` payload as Slack sends it when `user` submits the
    /// modal `view` (as Herald opened it) with `values`:
    /// `{block_id: {action_id: {"value": …} | {"selected_user": …}}}`.
    pub fn view_submission(&self, user: &str, view: &Value, values: Value) -> Value {
        let mut view = view.clone();
        view["state"] = json!({"values": values});
        let mut payload = self.world().interaction("view_submission", user);
        payload["view"] = view;
        payload
    }

    /// For benchmarks: from now on keep no calls and no messages, only
    /// when each `chat.postMessage` arrived and its text ([`FakeSlack::arrivals`]).
    pub fn go_lean(&self) {
        let mut w = self.world();
        w.lean = true;
        w.calls.clear();
        w.messages.clear();
    }

    /// When each message arrived (lean mode), and its text; emptied by the call.
    pub fn take_arrivals(&self) -> Vec<(Instant, String)> {
        std::mem::take(&mut self.world().arrivals)
    }

    /// How many messages arrived since the last [`FakeSlack::take_arrivals`] (lean mode).
    pub fn arrival_count(&self) -> usize {
        self.world().arrivals.len()
    }

    /// The redirect URLs the app's manifest lists; an authorize request with
    /// any other `redirect_uri` is refused, as Slack does.
    pub fn set_redirect_urls(&self, client_id: &str, urls: &[&str]) {
        self.world().apps.get_mut(client_id).expect("no such app").redirect_urls = urls.iter().map(|u| u.to_string()).collect();
    }

    /// Turns token rotation on: installs then get `xoxe.xoxb-` tokens that
    /// expire, with a refresh token.
    pub fn enable_token_rotation(&self, client_id: &str) {
        self.world().apps.get_mut(client_id).expect("no such app").token_rotation = true;
    }

    /// How long rotating tokens issued from now on live.
    pub fn set_token_lifetime(&self, client_id: &str, seconds: u64) {
        self.world().apps.get_mut(client_id).expect("no such app").token_lifetime_secs = seconds;
    }

    /// What the authorize page does with every install from now on
    /// (until set again; the default is Approve).
    pub fn set_authorize_outcome(&self, outcome: AuthorizeOutcome) {
        self.world().authorize_outcome = Some(outcome);
    }

    /// Queues a fault for the next call of `method` (e.g. `chat.postMessage`);
    /// several queue up and are used in order.
    pub fn inject(&self, method: &str, fault: Fault) {
        self.world().faults.entry(method.into()).or_default().push_back(fault);
    }

    // ---- reading what happened ----

    /// Every message posted so far, oldest first (updates applied).
    pub fn messages(&self) -> Vec<Message> {
        self.world().messages.clone()
    }

    pub fn messages_in(&self, channel: &str) -> Vec<Message> {
        self.messages().into_iter().filter(|m| m.channel == channel).collect()
    }

    pub fn ephemerals(&self) -> Vec<Ephemeral> {
        self.world().ephemerals.clone()
    }

    /// Every view opened with `views.open`.
    /// The last modal opened, once there are `count`.
    pub async fn until_view(&self, count: usize) -> Value {
        crate::poll::until("a modal", || async {
            let views = self.views();
            if views.len() >= count { Ok(views[count - 1].clone()) } else { Err(views.len()) }
        })
        .await
    }

    pub fn views(&self) -> Vec<Value> {
        self.world().views.clone()
    }

    pub fn response_posts(&self) -> Vec<ResponsePost> {
        self.world().response_posts.clone()
    }

    /// Every Web API call of `method`, faulted ones included.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.world().calls.iter().filter(|c| c.method == method).cloned().collect()
    }

    // ---- acting as a Slack user ----

    /// A `block_actions` payload as Slack sends it when `user` clicks an
    /// element of `message`; it carries a fresh `trigger_id` (valid 3 s,
    /// once) and a `response_url` bound to the message.
    pub fn block_actions(&self, user: &str, message: &Message, action: Value) -> Value {
        let mut world = self.world();
        let n = world.next();
        let trigger_id = format!("{n}.{}.fake{n:08x}", defaults::TEAM_ID);
        world.triggers.insert(trigger_id.clone(), (Instant::now(), false));
        let response_id = format!("r{n:08}");
        world.response_urls.insert(
            response_id.clone(),
            ResponseUrl { channel: message.channel.clone(), message_ts: Some(message.ts.clone()), issued: Instant::now(), uses: 0 },
        );
        let channel_name = world.channels.get(&message.channel).map(|c| c.name.clone()).unwrap_or_default();
        let mut payload = world.interaction("block_actions", user);
        let fields = json!({
            "enterprise": null,
            "channel": {"id": message.channel, "name": channel_name},
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": false},
            "message": {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks, "user": message.user},
            "trigger_id": trigger_id,
            "response_url": format!("http://{}/response/{response_id}", self.addr),
            "actions": [action],
        });
        payload.as_object_mut().expect("an object").extend(fields.as_object().expect("an object").clone());
        payload
    }

    /// Posts an interaction payload to Herald, signed with `signing_secret`.
    pub async fn send_interaction(&self, url: &str, signing_secret: &str, payload: &Value) -> reqwest::Response {
        let body = form_encode(&[("payload", &payload.to_string())]);
        self.post_signed(url, signing_secret, "application/x-www-form-urlencoded", body, None).await
    }

    /// Posts an Events API `event_callback` wrapping `event`; returns the
    /// event ID (to replay it) and Herald's answer.
    pub async fn send_event(&self, url: &str, signing_secret: &str, event: Value) -> (String, String, reqwest::Response) {
        self.send_event_from(defaults::TEAM_ID, url, signing_secret, event).await
    }

    /// The same, as Slack would send it for another workspace `team_id`
    /// (signed correctly: one app can be installed in many).
    pub async fn send_event_from(
        &self,
        team_id: &str,
        url: &str,
        signing_secret: &str,
        event: Value,
    ) -> (String, String, reqwest::Response) {
        let n = self.world().next();
        let event_id = format!("Ev{n:010}");
        let body = json!({
            "token": "verification-token-unused",
            "team_id": team_id,
            "api_app_id": defaults::APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": unix_now(),
        })
        .to_string();
        let response = self.post_signed(url, signing_secret, "application/json", body.clone(), None).await;
        (event_id, body, response)
    }

    /// Sends an event body again, as Slack's retry number `retry`.
    pub async fn resend_event(&self, url: &str, signing_secret: &str, body: String, retry: u32) -> reqwest::Response {
        self.post_signed(url, signing_secret, "application/json", body, Some(retry)).await
    }

    /// Puts `user` in `channel` and tells Herald with `member_joined_channel`.
    pub async fn join_and_notify(&self, url: &str, signing_secret: &str, channel: &str, user: &str) -> reqwest::Response {
        self.join(channel, user);
        let channel_type = if self.channel(channel).is_private { "G" } else { "C" };
        let event = json!({
            "type": "member_joined_channel", "user": user, "channel": channel,
            "channel_type": channel_type, "team": defaults::TEAM_ID, "event_ts": format!("{}.000100", unix_now()),
        });
        self.send_event(url, signing_secret, event).await.2
    }

    /// The `url_verification` handshake Slack sends when the events URL is saved.
    pub async fn verify_url(&self, url: &str, signing_secret: &str, challenge: &str) -> reqwest::Response {
        let body = json!({"token": "unused", "challenge": challenge, "type": "url_verification"}).to_string();
        self.post_signed(url, signing_secret, "application/json", body, None).await
    }

    /// Posts `body` with the headers Slack signs requests with, timestamped now.
    pub async fn post_signed(
        &self,
        url: &str,
        signing_secret: &str,
        content_type: &str,
        body: String,
        retry: Option<u32>,
    ) -> reqwest::Response {
        self.post_signed_at(url, signing_secret, content_type, body, retry, unix_now()).await
    }

    /// As [`FakeSlack::post_signed`], stamped with `timestamp` (Unix seconds):
    /// for stale and future timestamps.
    pub async fn post_signed_at(
        &self,
        url: &str,
        signing_secret: &str,
        content_type: &str,
        body: String,
        retry: Option<u32>,
        timestamp: u64,
    ) -> reqwest::Response {
        let timestamp = timestamp.to_string();
        let mut request = self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, content_type)
            .header("X-Slack-Request-Timestamp", &timestamp)
            .header("X-Slack-Signature", sign(signing_secret, &timestamp, body.as_bytes()));
        if let Some(n) = retry {
            request = request.header("X-Slack-Retry-Num", n.to_string()).header("X-Slack-Retry-Reason", "http_timeout");
        }
        request.body(body).send().await.expect("posting to Herald")
    }
}

/// `v0=<lowercase hex HMAC-SHA256 of "v0:{timestamp}:{body}">`, as Slack signs.
pub fn sign(signing_secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

// ---- the server side ----

fn ok(mut fields: Value) -> Response {
    fields.as_object_mut().expect("an object").insert("ok".into(), Value::Bool(true));
    axum::Json(fields).into_response()
}

fn slack_error(code: &str) -> Response {
    axum::Json(json!({"ok": false, "error": code})).into_response()
}

async fn authorize(State(world): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let client_id = query.get("client_id").cloned().unwrap_or_default();
    let redirect_uri = query.get("redirect_uri").cloned().unwrap_or_default();
    let state = query.get("state").cloned();
    let mut w = world.lock().unwrap();
    let Some(app) = w.apps.get(&client_id).cloned() else {
        return (StatusCode::BAD_REQUEST, Html("<h1>invalid_client_id</h1>")).into_response();
    };
    if redirect_uri.is_empty() || (!app.redirect_urls.is_empty() && !app.redirect_urls.contains(&redirect_uri)) {
        return (StatusCode::BAD_REQUEST, Html("<h1>bad_redirect_uri</h1>")).into_response();
    }
    let Ok(mut back) = url::Url::parse(&redirect_uri) else {
        return (StatusCode::BAD_REQUEST, Html("<h1>bad_redirect_uri</h1>")).into_response();
    };
    let outcome = w.authorize_outcome.unwrap_or(AuthorizeOutcome::Approve);
    if outcome == AuthorizeOutcome::Deny {
        back.query_pairs_mut().append_pair("error", "access_denied");
    } else {
        let n = w.next();
        let code = format!("{n}.fakecode{n:012}");
        w.codes.insert(
            code.clone(),
            Code {
                client_id,
                redirect_uri,
                scopes: query.get("scope").cloned().unwrap_or_default(),
                org_wide: outcome == AuthorizeOutcome::ApproveOrgWide,
                issued: Instant::now(),
                used: false,
            },
        );
        back.query_pairs_mut().append_pair("code", &code);
    }
    if let Some(state) = state {
        back.query_pairs_mut().append_pair("state", &state);
    }
    Redirect::to(back.as_str()).into_response()
}

async fn response_url(State(world): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let mut w = world.lock().unwrap();
    let Some(target) = w.response_urls.get_mut(&id) else {
        return (StatusCode::NOT_FOUND, "no_such_url").into_response();
    };
    if target.issued.elapsed() > Duration::from_secs(30 * 60) {
        return (StatusCode::NOT_FOUND, "expired_url").into_response();
    }
    if target.uses >= 5 {
        return (StatusCode::NOT_FOUND, "used_url").into_response();
    }
    target.uses += 1;
    let (channel, ts) = (target.channel.clone(), target.message_ts.clone());
    if body["replace_original"].as_bool() == Some(true) {
        if let Some(message) = w.messages.iter_mut().find(|m| Some(&m.ts) == ts.as_ref() && m.channel == channel) {
            message.text = body["text"].as_str().map(Into::into);
            message.blocks = body.get("blocks").cloned();
            message.edits += 1;
        }
    } else if body["delete_original"].as_bool() == Some(true) {
        w.messages.retain(|m| !(Some(&m.ts) == ts.as_ref() && m.channel == channel));
    }
    w.response_posts.push(ResponsePost { body });
    (StatusCode::OK, "ok").into_response()
}

/// The methods that take a JSON body, as Slack's write methods do. Slack
/// ignores a JSON body sent to any other method (read methods and
/// `oauth.v2.access` want a form or query string), and so does the fake.
pub const JSON_METHODS: &[&str] = &["chat.postMessage", "chat.update", "chat.postEphemeral", "views.open"];

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

/// Reads the parameters of a Web API call: query string, then a form or JSON
/// body (`blocks` arrive as a JSON string in forms, as an array in JSON).
fn params(method: &str, headers: &HeaderMap, query: &HashMap<String, String>, body: &[u8]) -> Map<String, Value> {
    let mut params: Map<String, Value> = query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    if is_json(headers) {
        if JSON_METHODS.contains(&method)
            && let Ok(Value::Object(mut map)) = serde_json::from_slice(body)
        {
            // With JSON, the token must come in the Authorization header.
            map.remove("token");
            params.extend(map);
        }
    } else {
        for (k, v) in url::form_urlencoded::parse(body) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    params
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// `(client_id, client_secret)` from HTTP Basic auth.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.into(), secret.into()))
}

fn str_param<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

async fn web_api(
    State(world): State<Shared>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == "chat.postMessage" && world.lock().unwrap().lean {
        return lean_post(&world, &headers, &body);
    }
    let params = params(&method, &headers, &query, &body);
    let token = bearer(&headers).or_else(|| str_param(&params, "token").map(Into::into));
    let (fault, latency) = {
        let mut w = world.lock().unwrap();
        if !w.lean {
            w.calls.push(Call { at: Instant::now(), method: method.clone(), token: token.clone(), params: params.clone() });
        }
        (w.faults.get_mut(&method).and_then(VecDeque::pop_front), w.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(Fault::RateLimited { retry_after_secs }) => return rate_limited(retry_after_secs),
        Some(Fault::Status(status)) => {
            return (StatusCode::from_u16(status).expect("a valid status"), "upstream trouble").into_response();
        }
        Some(Fault::Error(code)) => return slack_error(code),
        Some(Fault::Delay(duration)) => tokio::time::sleep(duration).await,
        None => {}
    }

    let mut w = world.lock().unwrap();
    if method == "oauth.v2.access" {
        return oauth_access(&mut w, &headers, &params);
    }
    if method == "apps.connections.open" {
        return socket_mode::open_connection(&mut w, token.as_deref());
    }
    let auth = match check_token(&w, token.as_deref()) {
        Ok(auth) => auth,
        Err(code) => return slack_error(code),
    };
    match method.as_str() {
        "auth.test" => auth_test(&auth),
        "chat.postMessage" => post_message(&mut w, &auth, &params),
        "chat.update" if !auth.has_scope("chat:write") => slack_error("missing_scope"),
        "chat.update" => update_message(&mut w, &params),
        "chat.postEphemeral" => post_ephemeral(&mut w, &auth, &params),
        "conversations.info" => conversation_info(&w, &auth, &params),
        "conversations.list" => conversation_list(&w, &auth, &params),
        "users.info" => user_info(&w, &auth, &params),
        "users.lookupByEmail" => user_by_email(&w, &auth, &params),
        "views.open" => open_view(&mut w, &params),
        "usergroups.list" if !auth.has_scope("usergroups:read") => slack_error("missing_scope"),
        "usergroups.list" => ok(json!({"usergroups": w.user_groups.iter().map(|(id, handle, name)| json!({
            "id": id, "team_id": auth.team_id.as_deref().unwrap_or(defaults::TEAM_ID), "handle": handle, "name": name,
            "is_usergroup": true, "date_delete": 0,
        })).collect::<Vec<_>>()})),
        _ => slack_error("unknown_method"),
    }
}

/// Benchmarks: a message is read only as far as the arrival log needs (the
/// tests check everything else), so the fake takes little of the machine
/// the server under measurement runs on.
fn lean_post(world: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    struct Post {
        channel: String,
        #[serde(default)]
        text: String,
        /// Alertmanager's Slack notifier puts its text here.
        #[serde(default)]
        attachments: Vec<Attachment>,
    }
    #[derive(serde::Deserialize)]
    struct Attachment {
        #[serde(default)]
        text: String,
    }
    let Ok(mut post) = serde_json::from_slice::<Post>(body) else { return slack_error("invalid_arguments") };
    if post.text.is_empty() {
        post.text = post.attachments.into_iter().next().map(|a| a.text).unwrap_or_default();
    }
    let mut w = world.lock().unwrap();
    if bearer(headers).is_none_or(|t| !w.tokens.contains_key(&t)) {
        return slack_error("invalid_auth");
    }
    if !w.channels.contains_key(&post.channel) {
        return slack_error("channel_not_found");
    }
    let n = w.next();
    w.arrivals.push((Instant::now(), post.text));
    ok(json!({"channel": post.channel, "ts": format!("{}.{:06}", unix_now(), n % 1_000_000)}))
}

struct Auth {
    org_wide: bool,
    scopes: String,
    team_id: Option<String>,
}

impl Auth {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.split(',').any(|s| s.trim() == scope)
    }
}

fn check_token(w: &World, token: Option<&str>) -> Result<Auth, &'static str> {
    let token = token.ok_or("not_authed")?;
    let info = w.tokens.get(token).ok_or("invalid_auth")?;
    if info.revoked {
        return Err("token_revoked");
    }
    if info.expires_at.is_some_and(|at| Instant::now() >= at) {
        return Err("token_expired");
    }
    Ok(Auth { org_wide: info.org_wide, scopes: info.scopes.clone(), team_id: info.team_id.clone() })
}

fn oauth_access(w: &mut World, headers: &HeaderMap, params: &Map<String, Value>) -> Response {
    let (client_id, client_secret) = basic(headers).unwrap_or_else(|| {
        (str_param(params, "client_id").unwrap_or_default().to_owned(), str_param(params, "client_secret").unwrap_or_default().to_owned())
    });
    let Some(app) = w.apps.get(&client_id).cloned() else { return slack_error("invalid_client_id") };
    if app.client_secret != client_secret {
        return slack_error("bad_client_secret");
    }
    let (scopes, org_wide) = match str_param(params, "grant_type") {
        Some("refresh_token") => {
            let Some(refresh) = str_param(params, "refresh_token") else { return slack_error("invalid_refresh_token") };
            // A refresh token works once: the new pair replaces it.
            match w.refresh_tokens.remove(refresh) {
                Some((owner, scopes, org_wide)) if owner == client_id => (scopes, org_wide),
                _ => return slack_error("invalid_refresh_token"),
            }
        }
        Some("authorization_code") | None => {
            let code = str_param(params, "code").unwrap_or_default();
            let Some(grant) = w.codes.get_mut(code) else { return slack_error("invalid_code") };
            if grant.used || grant.issued.elapsed() > Duration::from_secs(600) || grant.client_id != client_id {
                return slack_error("invalid_code");
            }
            // The authorize request had a redirect_uri, so the exchange must repeat it.
            if str_param(params, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return slack_error("bad_redirect_uri");
            }
            grant.used = true;
            if grant.scopes.is_empty() {
                return slack_error("no_scopes");
            }
            (grant.scopes.clone(), grant.org_wide)
        }
        Some(_) => return slack_error("invalid_grant_type"),
    };
    let n = w.next();
    let mut answer = json!({
        "app_id": defaults::APP_ID,
        "token_type": "bot",
        "scope": scopes,
        "bot_user_id": defaults::BOT_USER_ID,
        "authed_user": {"id": defaults::ANA},
        "is_enterprise_install": org_wide,
        "enterprise": if org_wide { json!({"id": defaults::ENTERPRISE_ID, "name": defaults::ENTERPRISE_NAME}) } else { Value::Null },
        "team": if org_wide { Value::Null } else { json!({"id": defaults::TEAM_ID, "name": defaults::TEAM_NAME}) },
    });
    let (token, expires_at) = if app.token_rotation {
        let refresh = format!("xoxe-1-fakerefresh{n:012}");
        w.refresh_tokens.insert(refresh.clone(), (client_id.clone(), scopes.clone(), org_wide));
        answer["refresh_token"] = json!(refresh);
        answer["expires_in"] = json!(app.token_lifetime_secs);
        (format!("xoxe.xoxb-1-fakerotating{n:012}"), Some(Instant::now() + Duration::from_secs(app.token_lifetime_secs)))
    } else {
        (format!("xoxb-{n}-fakeinstalled{n:012}"), None)
    };
    answer["access_token"] = json!(token);
    w.tokens.insert(token, Token { org_wide, scopes, revoked: false, expires_at, team_id: None });
    ok(answer)
}

fn auth_test(auth: &Auth) -> Response {
    let mut answer = json!({
        "url": format!("https://{}.slack.com/", defaults::TEAM_DOMAIN),
        "team": defaults::TEAM_NAME,
        "user": defaults::BOT_NAME,
        "team_id": auth.team_id.as_deref().unwrap_or(defaults::TEAM_ID),
        "user_id": defaults::BOT_USER_ID,
        "bot_id": defaults::BOT_ID,
        "is_enterprise_install": auth.org_wide,
    });
    if auth.org_wide {
        answer["enterprise_id"] = json!(defaults::ENTERPRISE_ID);
        answer["team"] = json!(defaults::ENTERPRISE_NAME);
        answer["team_id"] = json!(defaults::ENTERPRISE_ID);
    }
    ok(answer)
}

fn looks_like_channel_id(s: &str) -> bool {
    s.len() >= 9 && s.starts_with(['C', 'G', 'D']) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Finds the channel a `channel` parameter names (an ID, or a name with or
/// without `#`). Private channels the bot is not in do not exist for it.
fn find_channel<'w>(w: &'w World, auth: &Auth, param: Option<&str>) -> Result<&'w Channel, &'static str> {
    let param = param.ok_or("channel_not_found")?;
    let channel = if looks_like_channel_id(param) {
        w.channels.get(param)
    } else if auth.org_wide {
        // An org-wide token cannot tell which workspace a name is in.
        return Err("team_not_found");
    } else {
        let name = param.trim_start_matches('#');
        w.channels.values().find(|c| c.name == name)
    };
    match channel {
        Some(c) if c.is_private && !c.members.contains(defaults::BOT_USER_ID) => Err("channel_not_found"),
        Some(c) => Ok(c),
        None => Err("channel_not_found"),
    }
}

/// Blocks as Slack checks them: at most 50, and the Block Kit text limits.
fn check_blocks(blocks: &Value) -> Result<(), &'static str> {
    let blocks = blocks.as_array().ok_or("invalid_blocks_format")?;
    if blocks.len() > 50 {
        return Err("invalid_blocks");
    }
    let text_len = |v: &Value| v["text"].as_str().map_or(0, |t| t.chars().count());
    for block in blocks {
        let too_long = |v: &Value, key: &str, limit: usize| v[key].as_str().is_some_and(|s| s.chars().count() > limit);
        if too_long(block, "block_id", 255) {
            return Err("invalid_blocks");
        }
        let fits = match block["type"].as_str() {
            Some("header") => text_len(&block["text"]) <= 150,
            Some("section") => {
                text_len(&block["text"]) <= 3000
                    && block["fields"].as_array().is_none_or(|f| f.len() <= 10 && f.iter().all(|f| text_len(f) <= 2000))
            }
            Some("actions") => block["elements"].as_array().is_some_and(|e| {
                e.len() <= 25
                    && e.iter().all(|el| text_len(&el["text"]) <= 75 && !too_long(el, "action_id", 255) && !too_long(el, "value", 2000))
            }),
            Some("context") => block["elements"].as_array().is_some_and(|e| e.len() <= 10),
            Some("divider" | "image" | "rich_text" | "input" | "file" | "video") => true,
            _ => false,
        };
        if !fits {
            return Err("invalid_blocks");
        }
    }
    Ok(())
}

/// `blocks` as sent: an array in JSON bodies, a JSON string in forms.
fn blocks_param(params: &Map<String, Value>) -> Result<Option<Value>, &'static str> {
    match params.get("blocks") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| "invalid_blocks_format"),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn rate_limited(retry_after_secs: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after_secs.to_string())],
        axum::Json(json!({"ok": false, "error": "ratelimited"})),
    )
        .into_response()
}

fn post_message(w: &mut World, auth: &Auth, params: &Map<String, Value>) -> Response {
    if !auth.has_scope("chat:write") {
        return slack_error("missing_scope");
    }
    // A user ID: the bot's direct messages with them.
    if let Some(user) = str_param(params, "channel").filter(|c| c.starts_with(['U', 'W'])).map(str::to_owned) {
        if !w.users.contains_key(&user) {
            return slack_error("channel_not_found");
        }
        let id = FakeSlack::dm_channel(&user);
        w.channels.entry(id.clone()).or_insert_with(|| Channel {
            id: id.clone(),
            name: String::new(),
            is_private: true,
            is_archived: false,
            members: [user.clone(), defaults::BOT_USER_ID.to_owned()].into(),
        });
    }
    let param = str_param(params, "channel").map(|c| if c.starts_with(['U', 'W']) { FakeSlack::dm_channel(c) } else { c.to_owned() });
    let channel = match find_channel(w, auth, param.as_deref()) {
        Ok(c) => c.clone(),
        Err(code) => return slack_error(code),
    };
    if channel.is_archived {
        return slack_error("is_archived");
    }
    if !channel.members.contains(defaults::BOT_USER_ID) && !auth.has_scope("chat:write.public") {
        return slack_error("not_in_channel");
    }
    let (text, blocks) = match content(params) {
        Ok(content) => content,
        Err(code) => return slack_error(code),
    };
    if text.as_ref().is_some_and(|t| t.chars().count() > 40_000) {
        return slack_error("msg_too_long");
    }
    let now = Instant::now();
    if let Some(gap) = w.channel_gap {
        if w.last_post.get(&channel.id).is_some_and(|last| now < *last + gap) {
            w.limited.push((now, channel.id.clone()));
            return rate_limited(1);
        }
        w.last_post.insert(channel.id.clone(), now);
    }
    let n = w.next();
    let ts = format!("{}.{:06}", unix_now(), n % 1_000_000);
    let message = Message {
        at: now,
        channel: channel.id.clone(),
        ts: ts.clone(),
        thread_ts: str_param(params, "thread_ts").map(Into::into),
        text: text.clone(),
        blocks: blocks.clone(),
        user: defaults::BOT_USER_ID.into(),
        edits: 0,
    };
    w.messages.push(message);
    ok(json!({
        "channel": channel.id,
        "ts": ts,
        "message": {"type": "message", "user": defaults::BOT_USER_ID, "bot_id": defaults::BOT_ID, "text": text, "blocks": blocks, "ts": ts},
    }))
}

/// The `blocks` parameter, read and held to Block Kit's limits as Slack
/// holds it.
fn checked_blocks(params: &Map<String, Value>) -> Result<Option<Value>, &'static str> {
    let blocks = blocks_param(params)?;
    if let Some(blocks) = &blocks {
        check_blocks(blocks)?;
    }
    Ok(blocks)
}

/// A new message's text and blocks: at least one of them, the blocks
/// within Block Kit's limits.
fn content(params: &Map<String, Value>) -> Result<(Option<String>, Option<Value>), &'static str> {
    let blocks = checked_blocks(params)?;
    let text = str_param(params, "text").map(str::to_owned);
    if text.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    Ok((text, blocks))
}

fn update_message(w: &mut World, params: &Map<String, Value>) -> Response {
    let (Some(channel), Some(ts)) = (str_param(params, "channel"), str_param(params, "ts")) else {
        return slack_error("message_not_found");
    };
    let blocks = match checked_blocks(params) {
        Ok(blocks) => blocks,
        Err(code) => return slack_error(code),
    };
    let Some(message) = w.messages.iter_mut().find(|m| m.channel == channel && m.ts == ts) else {
        return slack_error("message_not_found");
    };
    if message.user != defaults::BOT_USER_ID {
        return slack_error("cant_update_message");
    }
    if let Some(text) = str_param(params, "text") {
        message.text = Some(text.into());
    }
    if blocks.is_some() {
        message.blocks = blocks;
    }
    message.edits += 1;
    let (channel, ts, text) = (message.channel.clone(), message.ts.clone(), message.text.clone());
    ok(json!({"channel": channel, "ts": ts, "text": text}))
}

fn post_ephemeral(w: &mut World, auth: &Auth, params: &Map<String, Value>) -> Response {
    if !auth.has_scope("chat:write") {
        return slack_error("missing_scope");
    }
    let channel = match find_channel(w, auth, str_param(params, "channel")) {
        Ok(c) => c.clone(),
        Err(code) => return slack_error(code),
    };
    if channel.is_archived {
        return slack_error("is_archived");
    }
    if !channel.members.contains(defaults::BOT_USER_ID) {
        return slack_error("not_in_channel");
    }
    let Some(user) = str_param(params, "user") else { return slack_error("user_not_in_channel") };
    if !channel.members.contains(user) {
        return slack_error("user_not_in_channel");
    }
    let (text, blocks) = match content(params) {
        Ok(content) => content,
        Err(code) => return slack_error(code),
    };
    w.ephemerals.push(Ephemeral { channel: channel.id.clone(), user: user.into(), text, blocks });
    ok(json!({"message_ts": format!("{}.{:06}", unix_now(), w.next() % 1_000_000)}))
}

fn channel_json(c: &Channel) -> Value {
    json!({
        "id": c.id, "name": c.name, "is_channel": !c.is_private, "is_group": false, "is_im": false,
        "is_private": c.is_private, "is_archived": c.is_archived,
        "is_member": c.members.contains(defaults::BOT_USER_ID), "num_members": c.members.len(),
    })
}

fn conversation_info(w: &World, auth: &Auth, params: &Map<String, Value>) -> Response {
    if !auth.has_scope("channels:read") {
        return slack_error("missing_scope");
    }
    let id = str_param(params, "channel").unwrap_or_default();
    if !looks_like_channel_id(id) {
        return slack_error("channel_not_found");
    }
    match find_channel(w, auth, Some(id)) {
        Ok(c) if c.is_private && !auth.has_scope("groups:read") => slack_error("missing_scope"),
        Ok(c) => ok(json!({"channel": channel_json(c)})),
        Err(code) => slack_error(code),
    }
}

fn conversation_list(w: &World, auth: &Auth, params: &Map<String, Value>) -> Response {
    if !auth.has_scope("channels:read") {
        return slack_error("missing_scope");
    }
    if auth.org_wide && str_param(params, "team_id").is_none() {
        return slack_error("missing_argument");
    }
    let types = str_param(params, "types").unwrap_or("public_channel");
    let want_public = types.split(',').any(|t| t.trim() == "public_channel");
    let want_private = types.split(',').any(|t| t.trim() == "private_channel");
    if want_private && !auth.has_scope("groups:read") {
        return slack_error("missing_scope");
    }
    let exclude_archived =
        matches!(params.get("exclude_archived"), Some(Value::Bool(true))) || str_param(params, "exclude_archived") == Some("true");
    let limit =
        match str_param(params, "limit").map(str::parse::<usize>).or(params.get("limit").and_then(Value::as_u64).map(|n| Ok(n as usize))) {
            None => 100,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => return slack_error("invalid_limit"),
        };
    let start = match str_param(params, "cursor") {
        None => 0,
        Some(cursor) => match cursor.strip_prefix("dGVhbTpD").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n,
            None => return slack_error("invalid_cursor"),
        },
    };
    let visible: Vec<&Channel> = w
        .channels
        .values()
        .filter(|c| if c.is_private { want_private && c.members.contains(defaults::BOT_USER_ID) } else { want_public })
        .filter(|c| !(exclude_archived && c.is_archived))
        .collect();
    let page: Vec<Value> = visible.iter().skip(start).take(limit).map(|c| channel_json(c)).collect();
    let next = if start + limit < visible.len() { format!("dGVhbTpD{}", start + limit) } else { String::new() };
    ok(json!({"channels": page, "response_metadata": {"next_cursor": next}}))
}

fn user_info(w: &World, auth: &Auth, params: &Map<String, Value>) -> Response {
    if !auth.has_scope("users:read") {
        return slack_error("missing_scope");
    }
    let Some(user) = str_param(params, "user").and_then(|id| w.users.get(id)) else { return slack_error("user_not_found") };
    let mut profile = json!({"real_name": user.name, "display_name": user.name});
    if auth.has_scope("users:read.email")
        && let Some(email) = &user.email
    {
        profile["email"] = json!(email);
    }
    ok(json!({"user": {
        "id": user.id, "team_id": user.team_id, "name": user.name, "real_name": user.name,
        "is_bot": user.is_bot, "deleted": user.deleted, "is_restricted": user.guest, "is_ultra_restricted": false,
        "is_email_confirmed": user.email_confirmed, "profile": profile,
    }}))
}

fn user_by_email(w: &World, auth: &Auth, params: &Map<String, Value>) -> Response {
    if !auth.has_scope("users:read.email") {
        return slack_error("missing_scope");
    }
    let wanted = str_param(params, "email").unwrap_or_default().to_ascii_lowercase();
    match w.users.values().find(|u| u.email.as_deref().is_some_and(|e| e.to_ascii_lowercase() == wanted)) {
        Some(user) => ok(json!({"user": {"id": user.id, "team_id": defaults::TEAM_ID, "name": user.name}})),
        None => slack_error("users_not_found"),
    }
}

fn open_view(w: &mut World, params: &Map<String, Value>) -> Response {
    let Some(trigger) = str_param(params, "trigger_id") else { return slack_error("invalid_arguments") };
    let Some((issued, used)) = w.triggers.get_mut(trigger) else { return slack_error("invalid_trigger_id") };
    if *used {
        return slack_error("exchanged_trigger_id");
    }
    if issued.elapsed() > Duration::from_secs(3) {
        return slack_error("expired_trigger_id");
    }
    *used = true;
    let view = match params.get("view") {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v) => v,
            Err(_) => return slack_error("invalid_arguments"),
        },
        Some(v @ Value::Object(_)) => v.clone(),
        _ => return slack_error("invalid_arguments"),
    };
    let id = format!("V{:09}", w.next());
    let mut stored = view.clone();
    stored["id"] = json!(id);
    w.views.push(stored.clone());
    ok(json!({"view": stored}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_slacks_published_example() {
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        assert_eq!(
            sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body.as_bytes()),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }
}
