//! Socket Mode in the fake Slack, as Slack does it: `apps.connections.open`
//! (with an app-level token) mints one-time `ws://` URLs; each connection
//! gets `hello`, then the envelopes tests send, each to one open
//! connection; an envelope not acknowledged within 3 s is sent again (to
//! any open connection) with `retry_attempt`; `disconnect` with each
//! reason, a connection dropped without a word, an acknowledgement lost on
//! the way.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{FakeSlack, Message, Shared, World, defaults, ok, slack_error, unix_now};

/// Slack sends an envelope again when no acknowledgement came this soon.
pub const ACK_WITHIN: Duration = Duration::from_secs(3);
/// Retries of one envelope, after the first sending.
const RETRIES: u32 = 3;

#[derive(Default)]
pub(super) struct Sockets {
    /// App-level tokens: token → revoked.
    app_tokens: HashMap<String, bool>,
    /// URLs minted and not used yet.
    tickets: HashSet<String>,
    connections: Vec<Connection>,
    /// Connections ever opened.
    opened: u64,
    envelopes: Vec<Envelope>,
    /// Acknowledgements to lose on the way, as a flaky network would.
    lose_acks: u32,
    /// Round robin over the open connections.
    turn: usize,
}

struct Connection {
    id: u64,
    send: mpsc::UnboundedSender<Command>,
}

enum Command {
    Text(String),
    /// Gone, without a close frame: TCP just ends.
    Drop,
}

/// An envelope the fake sent, and what came back.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    pub accepts_response_payload: bool,
    /// Times sent (1 + retries).
    pub sent: u32,
    last_sent: Instant,
    /// Each acknowledgement's `payload` (`None`: a bare one); lost ones
    /// are not here.
    pub acks: Vec<Option<Value>>,
    /// The connections it went to, in order.
    pub connections: Vec<u64>,
}

impl Sockets {
    pub(super) fn add_app_token(&mut self, token: &str) {
        self.app_tokens.insert(token.to_owned(), false);
    }

    /// Sends `text` to the next open connection; which one, or `None`.
    fn send_to_one(&mut self, text: String) -> Option<u64> {
        self.connections.retain(|c| !c.send.is_closed());
        if self.connections.is_empty() {
            return None;
        }
        self.turn = (self.turn + 1) % self.connections.len();
        let connection = &self.connections[self.turn];
        connection.send.send(Command::Text(text)).ok()?;
        Some(connection.id)
    }
}

fn frame(envelope: &Envelope, retry: u32) -> String {
    let mut frame = json!({
        "envelope_id": envelope.id,
        "type": envelope.kind,
        "payload": envelope.payload,
        "accepts_response_payload": envelope.accepts_response_payload,
        "retry_attempt": retry,
    });
    if retry > 0 {
        frame["retry_reason"] = json!("timeout");
    }
    frame.to_string()
}

/// `apps.connections.open`: only with an app-level token Slack knows.
pub(super) fn open_connection(w: &mut World, token: Option<&str>) -> Response {
    let Some(token) = token else { return slack_error("not_authed") };
    if !token.starts_with("xapp-") {
        return slack_error(if w.tokens.contains_key(token) { "not_allowed_token_type" } else { "invalid_auth" });
    }
    match w.sockets.app_tokens.get(token) {
        None => slack_error("invalid_auth"),
        Some(true) => slack_error("token_revoked"),
        Some(false) => {
            let n = w.next();
            let ticket = format!("t{n:08}x{}", unix_now());
            w.sockets.tickets.insert(ticket.clone());
            ok(json!({"url": format!("ws://{}/link/?ticket={ticket}&app_id={}", w.host, defaults::APP_ID)}))
        }
    }
}

/// `GET /link/?ticket=…`: the WebSocket, for a ticket minted and not used.
pub(super) async fn link(State(world): State<Shared>, Query(query): Query<HashMap<String, String>>, upgrade: WebSocketUpgrade) -> Response {
    let ticket = query.get("ticket").cloned().unwrap_or_default();
    if !world.lock().unwrap().sockets.tickets.remove(&ticket) {
        return (StatusCode::UNAUTHORIZED, "this URL was used before or never given").into_response();
    }
    upgrade.on_upgrade(move |socket| serve(world, socket))
}

async fn serve(world: Shared, mut socket: WebSocket) {
    let (send, mut commands) = mpsc::unbounded_channel();
    let (id, hello) = {
        let mut w = world.lock().unwrap();
        w.sockets.opened += 1;
        let id = w.sockets.opened;
        w.sockets.connections.push(Connection { id, send });
        let hello = json!({
            "type": "hello",
            "num_connections": w.sockets.connections.len(),
            "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
            "connection_info": {"app_id": defaults::APP_ID},
        });
        (id, hello)
    };
    if socket.send(WsMessage::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            received = socket.recv() => match received {
                Some(Ok(WsMessage::Text(text))) => acknowledged(&world, text.as_str()),
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            command = commands.recv() => match command {
                Some(Command::Text(text)) => {
                    if socket.send(WsMessage::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Command::Drop) | None => {
                    drop(socket);
                    unregister(&world, id);
                    return;
                }
            },
        }
    }
    unregister(&world, id);
}

fn unregister(world: &Shared, id: u64) {
    world.lock().unwrap().sockets.connections.retain(|c| c.id != id);
}

fn acknowledged(world: &Shared, text: &str) {
    let Ok(ack) = serde_json::from_str::<Value>(text) else { return };
    let Some(id) = ack["envelope_id"].as_str() else { return };
    let mut w = world.lock().unwrap();
    if w.sockets.lose_acks > 0 {
        w.sockets.lose_acks -= 1;
        return;
    }
    if let Some(envelope) = w.sockets.envelopes.iter_mut().find(|e| e.id == id) {
        envelope.acks.push(ack.get("payload").cloned());
    }
}

/// Slack's retries: every envelope still unacknowledged after
/// [`ACK_WITHIN`] goes again, to any open connection.
pub(super) async fn retry_unacknowledged(world: Shared) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let mut w = world.lock().unwrap();
        let due: Vec<usize> = (0..w.sockets.envelopes.len())
            .filter(|&i| {
                let e = &w.sockets.envelopes[i];
                e.acks.is_empty() && e.sent <= RETRIES && e.last_sent.elapsed() >= ACK_WITHIN
            })
            .collect();
        for i in due {
            let text = frame(&w.sockets.envelopes[i], w.sockets.envelopes[i].sent);
            if let Some(connection) = w.sockets.send_to_one(text) {
                let envelope = &mut w.sockets.envelopes[i];
                envelope.sent += 1;
                envelope.last_sent = Instant::now();
                envelope.connections.push(connection);
            }
        }
    }
}

impl FakeSlack {
    // ---- setting the scene ----

    /// An app-level token (`xapp-…`, scope `connections:write`).
    pub fn add_app_token(&self, token: &str) {
        self.world().sockets.add_app_token(token);
    }

    pub fn revoke_app_token(&self, token: &str) {
        self.world().sockets.app_tokens.insert(token.to_owned(), true);
    }

    /// The next `n` acknowledgements are lost on the way to Slack.
    pub fn lose_acks(&self, n: u32) {
        self.world().sockets.lose_acks += n;
    }

    // ---- acting as Slack ----

    /// Sends an envelope to one open connection; its ID. Panics when no
    /// connection is open (wait for [`FakeSlack::socket_connections`]).
    pub fn send_envelope(&self, kind: &str, payload: Value, accepts_response_payload: bool) -> String {
        let mut w = self.world();
        let n = w.next();
        let mut envelope = Envelope {
            id: format!("{n:08x}-fake-envelope"),
            kind: kind.to_owned(),
            payload,
            accepts_response_payload,
            sent: 1,
            last_sent: Instant::now(),
            acks: Vec::new(),
            connections: Vec::new(),
        };
        let connection = w.sockets.send_to_one(frame(&envelope, 0)).expect("a Socket Mode connection is open");
        envelope.connections.push(connection);
        let id = envelope.id.clone();
        w.sockets.envelopes.push(envelope);
        id
    }

    /// `user` clicks `action` on `message`, over Socket Mode.
    pub fn click_over_socket(&self, user: &str, message: &Message, action: Value) -> String {
        let payload = self.block_actions(user, message, action);
        self.send_envelope("interactive", payload, false)
    }

    /// `user` submits a modal, over Socket Mode (the acknowledgement may
    /// carry `response_action: errors`).
    pub fn submit_over_socket(&self, user: &str, view: &Value, values: Value) -> String {
        let payload = self.view_submission(user, view, values);
        self.send_envelope("interactive", payload, true)
    }

    /// An Events API `event_callback` wrapping `event`, over Socket Mode.
    pub fn event_over_socket(&self, event: Value) -> String {
        let n = self.world().next();
        let payload = json!({
            "token": "verification-token-unused",
            "team_id": defaults::TEAM_ID,
            "api_app_id": defaults::APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": format!("Ev{n:010}"),
            "event_time": unix_now(),
        });
        self.send_envelope("events_api", payload, false)
    }

    /// Tells every open connection it is about to end (`warning`,
    /// `refresh_requested` or `link_disabled`).
    pub fn disconnect(&self, reason: &str) {
        let text = json!({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}).to_string();
        for connection in &self.world().sockets.connections {
            let _ = connection.send.send(Command::Text(text.clone()));
        }
    }

    /// Ends every open connection without a word (a network failure).
    pub fn drop_connections(&self) {
        for connection in self.world().sockets.connections.drain(..) {
            let _ = connection.send.send(Command::Drop);
        }
    }

    // ---- reading back ----

    /// Socket Mode connections open now.
    pub fn socket_connections(&self) -> usize {
        let mut w = self.world();
        w.sockets.connections.retain(|c| !c.send.is_closed());
        w.sockets.connections.len()
    }

    /// Socket Mode connections ever opened.
    pub fn sockets_opened(&self) -> u64 {
        self.world().sockets.opened
    }

    pub fn envelope(&self, id: &str) -> Envelope {
        self.world().sockets.envelopes.iter().find(|e| e.id == id).cloned().expect("an envelope the fake sent")
    }
}
