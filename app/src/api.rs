//! The one door to Herald's server: every request the app makes is a
//! function here, and every failure comes back as an [`ApiError`] with a
//! sentence a person can act on.

use gloo_net::http::{Request, RequestBuilder, Response};
use herald_model::account::{ApiTokenList, ApiTokenView, CreatedApiToken, Me, NewApiToken, NewUser, SignIn, UserList, UserPatch, UserView};
use herald_model::alert::{AlertList, AlertPatch, AlertView, AssigneeList, NewComment};
use herald_model::api::{DestinationList, ErrorBody, FieldError};
use herald_model::destination::{
    AppCredentials, ChannelCheck, DestinationKind, DestinationView, DraftUpdate, NewDestination, SlackBotForm, TimezoneList, WelcomeOutcome,
};
use herald_model::manifest::{ManifestFormat, ManifestText};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::router::segment;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    /// The server's stable code (`invalid_field`, `unauthenticated`, …);
    /// empty when the answer was not the server's error body. Pages
    /// branch on this, never on the status.
    pub code: String,
    pub message: String,
    /// Field-by-field problems, for forms.
    pub fields: Vec<FieldError>,
}

impl ApiError {
    fn plain(status: u16, message: impl Into<String>) -> Self {
        ApiError { status, code: String::new(), message: message.into(), fields: Vec::new() }
    }

    /// Fields a form found wrong before sending, shown as the server's
    /// would be.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields.first().map(|f| f.message.clone()).unwrap_or_default();
        ApiError { status: 422, code: "invalid_field".to_owned(), message, fields }
    }

    /// The session is missing or over: the app sends people to sign in.
    pub fn is_unauthenticated(&self) -> bool {
        self.code == "unauthenticated"
    }

    /// The message for one form field, if the server named it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|f| f.field == name).map(|f| f.message.clone())
    }
}

// ---- session ----

pub async fn me() -> Result<Me, ApiError> {
    send(Request::get("/api/session")).await
}

pub async fn sign_in(form: &SignIn) -> Result<Me, ApiError> {
    send_json(Request::post("/api/session"), form).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    send_empty(Request::delete("/api/session")).await
}

// ---- destinations ----

pub async fn list_destinations() -> Result<DestinationList, ApiError> {
    send(Request::get("/api/destinations")).await
}

pub async fn create_destination(kind: DestinationKind) -> Result<DestinationView, ApiError> {
    send_json(Request::post("/api/destinations"), &NewDestination { kind }).await
}

pub async fn destination(id: &str) -> Result<DestinationView, ApiError> {
    send(Request::get(&format!("/api/destinations/{}", segment(id)))).await
}

pub async fn save_draft(id: &str, update: &DraftUpdate) -> Result<DestinationView, ApiError> {
    send_json(Request::patch(&format!("/api/destinations/{}/draft", segment(id))), update).await
}

pub async fn save_destination(id: &str, form: &SlackBotForm) -> Result<DestinationView, ApiError> {
    send_json(Request::put(&format!("/api/destinations/{}", segment(id))), form).await
}

pub async fn finish_destination(id: &str) -> Result<DestinationView, ApiError> {
    send(Request::post(&format!("/api/destinations/{}/finish", segment(id)))).await
}

pub async fn set_destination_enabled(id: &str, enabled: bool) -> Result<DestinationView, ApiError> {
    let action = if enabled { "enable" } else { "disable" };
    send(Request::post(&format!("/api/destinations/{}/{action}", segment(id)))).await
}

pub async fn delete_destination(id: &str) -> Result<(), ApiError> {
    send_empty(Request::delete(&format!("/api/destinations/{}", segment(id)))).await
}

/// The destination's Slack app leaves Socket Mode (its app-level token is forgotten).
pub async fn leave_socket_mode(id: &str) -> Result<DestinationView, ApiError> {
    send(Request::delete(&format!("/api/destinations/{}/app-token", segment(id)))).await
}

pub async fn save_credentials(id: &str, credentials: &AppCredentials) -> Result<DestinationView, ApiError> {
    send_json(Request::put(&format!("/api/destinations/{}/credentials", segment(id))), credentials).await
}

pub async fn channel_check(id: &str) -> Result<ChannelCheck, ApiError> {
    send(Request::get(&format!("/api/destinations/{}/channel", segment(id)))).await
}

/// The same check for a channel typed but not saved yet (step 5).
pub async fn channel_check_typed(id: &str, channel: &str) -> Result<ChannelCheck, ApiError> {
    let channel = String::from(js_sys::encode_uri_component(channel));
    send(Request::get(&format!("/api/destinations/{}/channel?channel={channel}", segment(id)))).await
}

pub async fn send_welcome(id: &str) -> Result<WelcomeOutcome, ApiError> {
    send(Request::post(&format!("/api/destinations/{}/welcome", segment(id)))).await
}

pub async fn manifest(
    format: ManifestFormat,
    enterprise_grid: bool,
    socket_mode: bool,
    user_groups: bool,
) -> Result<ManifestText, ApiError> {
    let format = match format {
        ManifestFormat::Yaml => "yaml",
        ManifestFormat::Json => "json",
    };
    send(Request::get(&format!(
        "/api/slack/manifest?format={format}&enterpriseGrid={enterprise_grid}&socketMode={socket_mode}&userGroups={user_groups}"
    )))
    .await
}

pub async fn timezones() -> Result<TimezoneList, ApiError> {
    send(Request::get("/api/timezones")).await
}

// ---- alerts ----

/// `query`: `severity=HIGH&status=OPEN&since=…` (already encoded).
pub async fn list_alerts(query: &str) -> Result<AlertList, ApiError> {
    send(Request::get(&format!("/api/alerts?{query}"))).await
}

pub async fn alert(id: &str) -> Result<AlertView, ApiError> {
    read_alert(fetch(prepare(Request::get(&format!("/api/alerts/{}", segment(id))))).await?)
}

/// Queues the alert's message again: to one destination, or to all.
pub async fn resend_alert(id: &str, destination_id: Option<&str>) -> Result<AlertView, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Resend<'a> {
        destination_id: Option<&'a str>,
    }
    let url = format!("/api/alerts/{}/resend", segment(id));
    read_alert(post(Request::post(&url), serde_json::to_string(&Resend { destination_id }).ok()).await?)
}

/// Changes the status and/or the assignee (`assignee_id: ""`: no one).
pub async fn update_alert(id: &str, patch: &AlertPatch) -> Result<AlertView, ApiError> {
    let url = format!("/api/alerts/{}", segment(id));
    read_alert(post(Request::patch(&url), serde_json::to_string(patch).ok()).await?)
}

pub async fn add_comment(id: &str, comment: &NewComment) -> Result<AlertView, ApiError> {
    let url = format!("/api/alerts/{}/comments", segment(id));
    read_alert(post(Request::post(&url), serde_json::to_string(comment).ok()).await?)
}

pub async fn assignees() -> Result<AssigneeList, ApiError> {
    send(Request::get("/api/assignees")).await
}

// ---- users ----

pub async fn list_users() -> Result<UserList, ApiError> {
    send(Request::get("/api/users")).await
}

pub async fn create_user(user: &NewUser) -> Result<UserView, ApiError> {
    send_json(Request::post("/api/users"), user).await
}

pub async fn update_user(id: &str, patch: &UserPatch) -> Result<UserView, ApiError> {
    send_json(Request::patch(&format!("/api/users/{}", segment(id))), patch).await
}

// ---- API tokens ----

pub async fn list_tokens() -> Result<ApiTokenList, ApiError> {
    send(Request::get("/api/tokens")).await
}

pub async fn create_token(token: &NewApiToken) -> Result<CreatedApiToken, ApiError> {
    send_json(Request::post("/api/tokens"), token).await
}

pub async fn revoke_token(id: &str) -> Result<ApiTokenView, ApiError> {
    send(Request::delete(&format!("/api/tokens/{}", segment(id)))).await
}

// ---- plumbing ----

/// Every request says it comes from Herald's pages: the server refuses
/// state changes without this header (CSRF protection).
fn prepare(request: RequestBuilder) -> RequestBuilder {
    request.header("Accept", "application/json").header("X-Requested-With", "Herald")
}

async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiError> {
    read(fetch(prepare(request)).await?)
}

async fn send_json<B: Serialize, T: DeserializeOwned>(request: RequestBuilder, body: &B) -> Result<T, ApiError> {
    read(post(request, serde_json::to_string(body).ok()).await?)
}

/// Sends `body`, JSON text, and gives what the server answered as a JS
/// value. Serialised by the caller, so this is one copy for every body.
async fn post(request: RequestBuilder, body: Option<String>) -> Result<(u16, wasm_bindgen::JsValue), ApiError> {
    let body = body.ok_or_else(|| ApiError::plain(0, "This form could not be sent."))?;
    let request = prepare(request)
        .header("Content-Type", "application/json")
        .body(body)
        .map_err(|_| ApiError::plain(0, "This form could not be sent."))?;
    fetch_built(request).await
}

async fn send_empty(request: RequestBuilder) -> Result<(), ApiError> {
    let response = prepare(request).send().await.map_err(|_| unreachable())?;
    if response.ok() { Ok(()) } else { Err(error_of(response).await) }
}

fn unreachable() -> ApiError {
    ApiError::plain(0, "Herald's server cannot be reached. Check that it is running, then try again.")
}

/// What the server answered, as a JS value. Not generic: the one copy of
/// the request plumbing serves every answer type.
async fn fetch(request: RequestBuilder) -> Result<(u16, wasm_bindgen::JsValue), ApiError> {
    let request = request.build().map_err(|_| unreachable())?;
    fetch_built(request).await
}

async fn fetch_built(request: gloo_net::http::Request) -> Result<(u16, wasm_bindgen::JsValue), ApiError> {
    let response = request.send().await.map_err(|_| unreachable())?;
    if !response.ok() {
        return Err(error_of(response).await);
    }
    let status = response.status();
    Ok((status, json_of(response).await.unwrap_or(wasm_bindgen::JsValue::UNDEFINED)))
}

/// The answer read as `T`.
fn read<T: DeserializeOwned>((status, value): (u16, wasm_bindgen::JsValue)) -> Result<T, ApiError> {
    from_js(value).ok_or_else(|| ApiError::plain(status, "Herald's server sent an answer this page cannot read. Reload the page."))
}

/// An alert as its page shows it. Its context is shown, never read, so the
/// browser indents it (`JSON.stringify`) and the app needs no JSON value
/// parser: `alert_context` is that text as one `Value::String`.
fn read_alert(answer: (u16, wasm_bindgen::JsValue)) -> Result<AlertView, ApiError> {
    let context = js_sys::Reflect::get(&answer.1, &"alertContext".into())
        .ok()
        .filter(|context| !context.is_undefined() && !context.is_null())
        .and_then(|context| js_sys::JSON::stringify_with_replacer_and_space(&context, &wasm_bindgen::JsValue::NULL, &2.into()).ok())
        .map(String::from);
    let mut alert: AlertView = read(answer)?;
    alert.alert_context = context.map(serde_json::Value::String);
    Ok(alert)
}

fn from_js<T: DeserializeOwned>(value: wasm_bindgen::JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// The body parsed by the browser's JSON.parse. serde_json's parser
/// inlined into every answer type was the largest single part of the
/// app's wasm.
async fn json_of(response: Response) -> Option<wasm_bindgen::JsValue> {
    let promise = web_sys::Response::from(response).json().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()
}

thread_local! {
    /// What to do when the server says the session is over (set by `auth`).
    static ON_SESSION_ENDED: std::cell::RefCell<Option<Box<dyn Fn()>>> = const { std::cell::RefCell::new(None) };
}

/// Registers what every 401 answer triggers: the app sends people to sign in.
pub fn on_session_ended(hook: impl Fn() + 'static) {
    ON_SESSION_ENDED.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
}

async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    // Not for a failed sign-in itself: that 401 means a wrong password.
    if status == 401 && !response.url().ends_with("/api/session") {
        ON_SESSION_ENDED.with(|h| h.borrow().as_ref().map(|hook| hook()));
    }
    let status_text = response.status_text();
    match json_of(response).await.and_then(from_js::<ErrorBody>) {
        Some(body) => {
            let mut fields = body.error.fields;
            if fields.is_empty()
                && let Some(field) = body.error.field
            {
                fields.push(FieldError::new(field, body.error.message.clone()));
            }
            ApiError { status, code: body.error.code, message: body.error.message, fields }
        }
        None => ApiError::plain(status, format!("Herald's server answered {status} {status_text}. Try again in a moment.")),
    }
}
