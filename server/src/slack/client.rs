//! The Slack Web API, as Herald calls it: one shared HTTP client, the base
//! URL from `HERALD_SLACK_API_URL` (the fake Slack in tests), Slack's
//! `{"ok": false, "error": …}` answers and HTTP 429 turned into typed errors.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// Slack's own error code, e.g. `not_in_channel`.
    #[error("Slack answered {0}")]
    Api(String),
    #[error("Slack is rate limiting; retry after {0:?}")]
    RateLimited(Duration),
    #[error("Slack answered HTTP {0}")]
    Status(u16),
    #[error("Slack could not be reached: {0}")]
    Transport(String),
    #[error("Slack's answer could not be read")]
    Decode,
}

impl SlackError {
    /// Slack's error code, when Slack gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackError::Api(code) => Some(code),
            SlackError::RateLimited(_) => Some("ratelimited"),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    api_url: Url,
}

/// `auth.test`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthTest {
    pub team_id: Option<String>,
    pub team: Option<String>,
    pub user_id: String,
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub enterprise_id: Option<String>,
    #[serde(default)]
    pub is_enterprise_install: bool,
}

/// A channel as `conversations.info` and `conversations.list` describe it.
#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub is_private: bool,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub is_member: bool,
}

/// `oauth.v2.access`: a new installation.
#[derive(Clone, Deserialize)]
pub struct OAuthAccess {
    pub access_token: String,
    #[serde(default)]
    pub scope: String,
    pub bot_user_id: String,
    pub app_id: Option<String>,
    pub team: Option<Named>,
    pub enterprise: Option<Named>,
    #[serde(default)]
    pub is_enterprise_install: bool,
    /// With token rotation on.
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for OAuthAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAccess").field("bot_user_id", &self.bot_user_id).field("team", &self.team).finish_non_exhaustive()
    }
}

/// `oauth.v2.access` with `grant_type=refresh_token`: a new token pair.
#[derive(Clone, Deserialize)]
pub struct RefreshedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: Option<String>,
}

/// A Slack user, as `users.info` describes them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
pub struct SlackUser {
    pub name: String,
    pub email: Option<String>,
    /// The user's own workspace, and org (Enterprise Grid): in a Slack
    /// Connect channel, another organisation's.
    pub team_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub is_bot: bool,
    pub deleted: bool,
    /// A guest (single- or multi-channel).
    pub is_guest: bool,
    pub is_email_confirmed: bool,
}

/// A user group (`usergroups.list`): its ID and the handle people type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserGroup {
    pub id: String,
    pub handle: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
}

/// How many times a call that Slack rate-limits is tried, and the longest
/// `Retry-After` waited for, for calls someone is waiting on.
const ATTEMPTS: u32 = 3;
const LONGEST_WAIT: Duration = Duration::from_secs(10);

impl SlackClient {
    pub fn new(api_url: Url) -> SlackClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("Herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with default settings");
        SlackClient { http, api_url }
    }

    /// Calls `method` with a JSON body (Slack's write methods) or a form
    /// (everything else), retrying briefly when rate limited.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        token: &str,
        json: Option<&Value>,
        form: &[(&str, &str)],
    ) -> Result<T, SlackError> {
        let url = self.api_url.join(method).map_err(|_| SlackError::Transport(format!("bad method name {method}")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = self.http.post(url.clone()).bearer_auth(token);
            let request = match json {
                Some(body) => request.json(body),
                None => request.form(form),
            };
            match self.answer(request).await {
                Err(SlackError::RateLimited(wait)) if attempt < ATTEMPTS && wait <= LONGEST_WAIT => {
                    tracing::info!(slack.method = method, wait = ?wait, "Slack rate limited the call; waiting");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn answer<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, SlackError> {
        let response = request.send().await.map_err(|e| SlackError::Transport(transport_reason(&e)))?;
        if let Some(error) = status_error(&response) {
            return Err(error);
        }
        let body: Value = response.json().await.map_err(|_| SlackError::Decode)?;
        if body["ok"].as_bool() != Some(true) {
            let code = body["error"].as_str().unwrap_or("unknown_error");
            return Err(SlackError::Api(code.to_owned()));
        }
        serde_json::from_value(body).map_err(|_| SlackError::Decode)
    }

    pub async fn auth_test(&self, token: &str) -> Result<AuthTest, SlackError> {
        self.call("auth.test", token, None, &[]).await
    }

    /// `apps.connections.open` with an app-level token: a one-time
    /// WebSocket URL for Socket Mode, soon expired.
    pub async fn open_connection(&self, app_token: &str) -> Result<Url, SlackError> {
        #[derive(Deserialize)]
        struct Answer {
            url: String,
        }
        let answer: Answer = self.call("apps.connections.open", app_token, None, &[]).await?;
        let url = Url::parse(&answer.url).map_err(|_| SlackError::Decode)?;
        // Plain ws:// only from a plain-http Slack (the fake one in tests).
        match url.scheme() {
            "wss" => Ok(url),
            "ws" if self.api_url.scheme() == "http" => Ok(url),
            _ => Err(SlackError::Decode),
        }
    }

    pub async fn conversation_info(&self, token: &str, channel: &str) -> Result<Conversation, SlackError> {
        #[derive(Deserialize)]
        struct Answer {
            channel: Conversation,
        }
        let answer: Answer = self.call("conversations.info", token, None, &[("channel", channel)]).await?;
        Ok(answer.channel)
    }

    /// Every public and private channel the bot may see, following the
    /// cursor through all pages.
    pub async fn all_conversations(&self, token: &str, team_id: Option<&str>) -> Result<Vec<Conversation>, SlackError> {
        #[derive(Deserialize)]
        struct Page {
            channels: Vec<Conversation>,
            #[serde(default)]
            response_metadata: Option<Value>,
        }
        let mut channels = Vec::new();
        let mut cursor = String::new();
        // A bound, so a misbehaving server cannot keep Herald paging forever.
        for _ in 0..200 {
            let mut form = vec![("types", "public_channel,private_channel"), ("limit", "1000"), ("exclude_archived", "false")];
            if !cursor.is_empty() {
                form.push(("cursor", cursor.as_str()));
            }
            if let Some(team) = team_id {
                form.push(("team_id", team));
            }
            let page: Page = self.call("conversations.list", token, None, &form).await?;
            channels.extend(page.channels);
            cursor = page.response_metadata.as_ref().and_then(|m| m["next_cursor"].as_str()).unwrap_or_default().to_owned();
            if cursor.is_empty() {
                return Ok(channels);
            }
        }
        Ok(channels)
    }

    /// The workspace's user groups (`usergroups.list`, which needs the
    /// `usergroups:read` scope).
    pub async fn user_groups(&self, token: &str, team_id: Option<&str>) -> Result<Vec<UserGroup>, SlackError> {
        #[derive(Deserialize)]
        struct Answer {
            usergroups: Vec<UserGroup>,
        }
        let mut form = vec![("include_disabled", "false")];
        if let Some(team) = team_id {
            form.push(("team_id", team));
        }
        let answer: Answer = self.call("usergroups.list", token, None, &form).await?;
        Ok(answer.usergroups)
    }

    /// One `chat.postMessage` attempt with a body serialised already, with
    /// no waiting when rate limited: the delivery worker paces and retries
    /// on its own. The answer is read straight into what is needed.
    pub async fn post_message_once(&self, token: &str, body: Vec<u8>) -> Result<Posted, SlackError> {
        self.write_once("chat.postMessage", token, body).await
    }

    /// One `chat.update` attempt: the message at `channel` + `ts` in the body.
    pub async fn update_message_once(&self, token: &str, body: Vec<u8>) -> Result<Posted, SlackError> {
        self.write_once("chat.update", token, body).await
    }

    async fn write_once(&self, method: &str, token: &str, body: Vec<u8>) -> Result<Posted, SlackError> {
        #[derive(Deserialize)]
        struct Answer {
            ok: bool,
            error: Option<String>,
            channel: Option<String>,
            ts: Option<String>,
        }
        let url = self.api_url.join(method).map_err(|_| SlackError::Transport("bad API URL".into()))?;
        let request = self.http.post(url).bearer_auth(token).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        let response = request.send().await.map_err(|e| SlackError::Transport(transport_reason(&e)))?;
        if let Some(error) = status_error(&response) {
            return Err(error);
        }
        let bytes = response.bytes().await.map_err(|e| SlackError::Transport(transport_reason(&e)))?;
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| SlackError::Decode)?;
        match answer {
            Answer { ok: true, channel: Some(channel), ts: Some(ts), .. } => Ok(Posted { channel, ts }),
            Answer { ok: true, .. } => Err(SlackError::Decode),
            Answer { error, .. } => Err(SlackError::Api(error.unwrap_or_else(|| "unknown_error".to_owned()))),
        }
    }

    pub async fn post_message(&self, token: &str, message: &Value) -> Result<Posted, SlackError> {
        self.call("chat.postMessage", token, Some(message), &[]).await
    }

    /// A message only `user` sees, in `channel`.
    pub async fn post_ephemeral(&self, token: &str, channel: &str, user: &str, text: &str) -> Result<(), SlackError> {
        let body = serde_json::json!({"channel": channel, "user": user, "text": text});
        self.call::<Value>("chat.postEphemeral", token, Some(&body), &[]).await.map(|_| ())
    }

    /// Opens a modal for the click that sent `trigger_id` (valid 3 s, once).
    pub async fn open_view(&self, token: &str, trigger_id: &str, view: &Value) -> Result<(), SlackError> {
        let body = serde_json::json!({"trigger_id": trigger_id, "view": view});
        self.call::<Value>("views.open", token, Some(&body), &[]).await.map(|_| ())
    }

    /// A Slack user's name and email (`users:read.email`).
    pub async fn user_info(&self, token: &str, user: &str) -> Result<SlackUser, SlackError> {
        #[derive(Deserialize)]
        struct Answer {
            user: RawUser,
        }
        #[derive(Deserialize)]
        struct RawUser {
            #[serde(default)]
            name: String,
            #[serde(default)]
            real_name: Option<String>,
            #[serde(default)]
            profile: Profile,
            team_id: Option<String>,
            enterprise_user: Option<EnterpriseUser>,
            #[serde(default)]
            is_bot: bool,
            #[serde(default)]
            deleted: bool,
            #[serde(default)]
            is_restricted: bool,
            #[serde(default)]
            is_ultra_restricted: bool,
            #[serde(default)]
            is_email_confirmed: bool,
        }
        #[derive(Deserialize, Default)]
        struct Profile {
            email: Option<String>,
            display_name: Option<String>,
        }
        #[derive(Deserialize)]
        struct EnterpriseUser {
            enterprise_id: Option<String>,
        }
        let answer: Answer = self.call("users.info", token, None, &[("user", user)]).await?;
        let u = answer.user;
        let name = [u.profile.display_name, u.real_name].into_iter().flatten().find(|n| !n.is_empty()).unwrap_or(u.name);
        Ok(SlackUser {
            name,
            email: u.profile.email.filter(|e| !e.is_empty()),
            team_id: u.team_id,
            enterprise_id: u.enterprise_user.and_then(|e| e.enterprise_id),
            is_bot: u.is_bot,
            deleted: u.deleted,
            is_guest: u.is_restricted || u.is_ultra_restricted,
            is_email_confirmed: u.is_email_confirmed,
        })
    }

    /// The Slack user with this email, if there is one (`users:read.email`).
    pub async fn user_id_by_email(&self, token: &str, email: &str) -> Result<Option<String>, SlackError> {
        #[derive(Deserialize)]
        struct Answer {
            user: Named,
        }
        match self.call::<Answer>("users.lookupByEmail", token, None, &[("email", email)]).await {
            Ok(answer) => Ok(Some(answer.user.id)),
            Err(SlackError::Api(code)) if code == "users_not_found" => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Trades a refresh token for a new token pair (token rotation); the old
    /// refresh token stops working.
    pub async fn refresh_token(&self, client_id: &str, client_secret: &str, refresh_token: &str) -> Result<RefreshedTokens, SlackError> {
        let url = self.api_url.join("oauth.v2.access").map_err(|_| SlackError::Transport("bad API URL".into()))?;
        let request = self
            .http
            .post(url)
            .basic_auth(client_id, Some(client_secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]);
        self.answer(request).await
    }

    /// Exchanges an OAuth code for the bot token; the app's credentials go
    /// by HTTP Basic auth, and `redirect_uri` repeats the authorize request's.
    pub async fn oauth_access(
        &self,
        client_id: &str,
        client_secret: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<OAuthAccess, SlackError> {
        let url = self.api_url.join("oauth.v2.access").map_err(|_| SlackError::Transport("bad API URL".into()))?;
        let request =
            self.http.post(url).basic_auth(client_id, Some(client_secret)).form(&[("code", code), ("redirect_uri", redirect_uri)]);
        self.answer(request).await
    }
}

/// HTTP 429 with its Retry-After, or another status that is not success.
fn status_error(response: &reqwest::Response) -> Option<SlackError> {
    let status = response.status();
    if status.as_u16() == 429 {
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1)
            // "0" would have Herald ask again at once, and again.
            .max(1);
        return Some(SlackError::RateLimited(Duration::from_secs(wait)));
    }
    (!status.is_success()).then(|| SlackError::Status(status.as_u16()))
}

/// Why a request failed, without the URL (which may be internal).
fn transport_reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection refused or unreachable".to_owned()
    } else {
        "the request failed".to_owned()
    }
}
