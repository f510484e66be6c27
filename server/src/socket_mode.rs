//! Socket Mode: for each Slack app with an app-level token, Herald opens
//! its own WebSocket to Slack, and Slack sends clicks, modals and events
//! over it instead of POSTing them, so Herald needs no address Slack can
//! reach. Every replica keeps its own connection (Slack hands each
//! envelope to one of an app's connections); the handling is the https
//! endpoints' own ([`crate::domain::inbound`]), safe across replicas.
//!
//! Per app: one connection, two while Slack hands over to a fresh one
//! (`disconnect`: the new one is opened before the old one is closed);
//! every envelope acknowledged as soon as it is handled; reconnects with
//! backoff and jitter; a token Slack refuses is tried again only every few
//! minutes, and said once as a System Error, as is a connection down
//! longer than `HERALD_SOCKET_MODE_ALERT_AFTER`.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use herald_model::destination::SocketModeState;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::task::AbortOnDropHandle;

use crate::domain::error::Error;
use crate::domain::interactions::{self, Interactions};
use crate::domain::{inbound, system};
use crate::slack::client::SlackError;
use crate::slack::socket_mode::{Connection, Envelope, Frame};

/// How often the stored apps are looked at again without a save nudging
/// (another replica may have saved a token).
const RECHECK: Duration = Duration::from_secs(15);
/// The first wait after a failure; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A refused token is asked about again this rarely (until a new one is
/// saved, which is tried at once).
const REFUSED_RETRY: Duration = Duration::from_secs(300);
/// Herald pings this often; a connection silent for [`SILENT_LIMIT`] is
/// taken for dead (a network that drops packets says nothing).
const PING_EVERY: Duration = Duration::from_secs(20);
const SILENT_LIMIT: Duration = Duration::from_secs(60);
/// A connection up this long before it failed was no failure of the link.
const STABLE: Duration = Duration::from_secs(30);

/// What the receiver works with.
#[derive(Clone)]
pub struct Inbound {
    /// The handlers clicks and events go to, with the store and the apps.
    pub interactions: Interactions,
    /// Work that goes on after an envelope was acknowledged.
    pub tasks: tokio_util::task::TaskTracker,
    /// `HERALD_SOCKET_MODE_ALERT_AFTER`.
    pub alert_after: Duration,
}

/// Keeps a connection open for every app with an app-level token until
/// `stop`.
pub async fn run(state: Inbound, mut stop: watch::Receiver<bool>) {
    // client_id → (the token it runs with, its stop, its task).
    let mut running: HashMap<String, (SecretString, watch::Sender<bool>, AbortOnDropHandle<()>)> = HashMap::new();
    loop {
        match state.interactions.store.list_slack_apps().await {
            Ok(apps) => {
                // Saved again, a token is sealed anew: it is the token
                // itself that says whether anything changed.
                let wanted: HashMap<String, SecretString> = apps
                    .iter()
                    .filter_map(|a| {
                        let sealed = a.app_token.as_ref()?;
                        state.interactions.apps.open(&a.client_id, "app_token", sealed).ok().map(|t| (a.client_id.clone(), t))
                    })
                    .collect();
                let mut gone = Vec::new();
                running.retain(|client_id, (token, _, _)| {
                    let keep = wanted.get(client_id).is_some_and(|t| t.expose_secret() == token.expose_secret());
                    if !keep {
                        gone.push(client_id.clone());
                    }
                    keep
                });
                // Their tasks are gone (dropped above): nothing sets them again.
                for client_id in gone {
                    state.interactions.apps.socket_mode().remove(&client_id);
                }
                for (client_id, token) in wanted {
                    if running.contains_key(&client_id) {
                        continue;
                    }
                    let (stop_app, app_stop) = watch::channel(false);
                    let receiver = Receiver::new(state.clone(), client_id.clone(), token.clone(), app_stop);
                    let task = AbortOnDropHandle::new(tokio::spawn(receiver.keep_connected()));
                    running.insert(client_id, (token, stop_app, task));
                }
            }
            Err(error) => tracing::warn!(%error, "Socket Mode: could not read the Slack apps; trying again"),
        }
        tokio::select! {
            () = state.interactions.apps.app_tokens_saved() => {}
            () = tokio::time::sleep(RECHECK) => {}
            _ = stop.changed() => break,
        }
    }
    // Each connection closes; envelopes being handled are acknowledged
    // first.
    let tasks: Vec<_> = running
        .into_values()
        .map(|(_, stop, task)| {
            let _ = stop.send(true);
            task
        })
        .collect();
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
}

/// How one connection (or a hand-over between two) ended.
enum Ended {
    Stopped,
    /// Slack refused the token: what to tell the operator.
    Refused(String),
    /// Anything else: why, in a few words.
    Failed(String),
}

/// One app's connection, kept open.
struct Receiver {
    state: Inbound,
    client_id: String,
    token: SecretString,
    stop: watch::Receiver<bool>,
    /// Since when no connection has been open (`None`: one is).
    down_since: Option<Instant>,
    /// Since when the connection open now has been (its `hello`).
    up_since: Option<Instant>,
    /// The System Error for this outage was raised.
    raised: bool,
    /// Connections open now.
    open: u32,
}

impl Receiver {
    fn new(state: Inbound, client_id: String, token: SecretString, stop: watch::Receiver<bool>) -> Receiver {
        Receiver { state, client_id, token, stop, down_since: Some(Instant::now()), up_since: None, raised: false, open: 0 }
    }

    fn show(&self, state: SocketModeState, reason: Option<String>) {
        self.state.interactions.apps.socket_mode().set(&self.client_id, state, reason, self.open);
    }

    async fn keep_connected(mut self) {
        let mut failures = 0u32;
        let mut last_failure: Option<String> = None;
        let mut first = true;
        self.show(SocketModeState::Reconnecting, None);
        loop {
            if !first {
                self.state.interactions.outbox.metrics.socket_reconnects.fetch_add(1, Relaxed);
            }
            first = false;
            let wait = match self.connect_and_serve().await {
                Ended::Stopped => return,
                Ended::Refused(message) => {
                    tracing::warn!(slack.client_id = %self.client_id, "Socket Mode: Slack refused the app-level token");
                    self.show(SocketModeState::Refused, Some(message.clone()));
                    self.raise(&message).await;
                    REFUSED_RETRY
                }
                Ended::Failed(reason) => {
                    // A connection that stayed up a while starts the count
                    // again (Slack recycles connections every few hours);
                    // one that ends soon after its hello counts, so a
                    // connection that keeps failing at once is not opened
                    // again at once, again and again.
                    failures = match self.up_since.take() {
                        Some(up) if up.elapsed() >= STABLE => 1,
                        _ => failures + 1,
                    };
                    self.down_since.get_or_insert_with(Instant::now);
                    tracing::info!(slack.client_id = %self.client_id, reason = %reason, "Socket Mode: connection lost; reconnecting");
                    self.show(SocketModeState::Reconnecting, Some(reason.clone()));
                    self.raise_if_down_too_long(&reason).await;
                    last_failure = Some(reason);
                    // Slack recycling a connection is no failure: at once.
                    if failures <= 1 { Duration::ZERO } else { crate::domain::time::backoff(FIRST_BACKOFF, failures - 1, MAX_BACKOFF) }
                }
            };
            let stop = self.stop.changed();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop => return,
            }
            // The wait may have gone on past the alert's time.
            if let Some(reason) = &last_failure {
                self.raise_if_down_too_long(reason).await;
            }
        }
    }

    /// The System Error when no connection has been open for longer than
    /// `HERALD_SOCKET_MODE_ALERT_AFTER`.
    async fn raise_if_down_too_long(&mut self, last_failure: &str) {
        if let Some(since) = self.down_since
            && since.elapsed() >= self.state.alert_after
        {
            let minutes = since.elapsed().as_secs() / 60;
            self.raise(&format!("It has been down for {minutes} min; the last failure: {last_failure}.")).await;
        }
    }

    /// The System Error, once per outage.
    async fn raise(&mut self, problem: &str) {
        if self.raised {
            return;
        }
        self.raised = true;
        if let Err(error) =
            system::socket_mode_down(&*self.state.interactions.store, &self.state.interactions.outbox, &self.client_id, problem).await
        {
            tracing::warn!(%error, "Socket Mode: could not raise the System Error alert");
        }
    }

    /// Serves connections until one fails with no other to take over.
    async fn connect_and_serve(&mut self) -> Ended {
        let mut current = match open(self.state.clone(), self.token.clone()).await {
            Ok(connection) => connection,
            Err(ended) => return ended,
        };
        self.open = 1;
        // The replacement Slack asked for, once it is open, and while it is
        // being opened.
        let mut next: Option<Connection> = None;
        let mut opening: Option<AbortOnDropHandle<Result<Connection, Ended>>> = None;
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let stop = self.stop.changed();
            let step = tokio::select! {
                frame = current.next() => Heard::Current(frame),
                frame = next_of(&mut next) => Heard::Next(frame),
                opened = async { opening.as_mut().expect("guarded").await }, if opening.is_some() => Heard::Opened(Box::new(opened)),
                _ = ping.tick() => Heard::PingTime,
                _ = stop => Heard::Stop,
            };
            match step {
                Heard::Current(frame) => match self.on_frame(&mut current, frame).await {
                    Step::Go => {}
                    Step::Refresh => {
                        if next.is_none() && opening.is_none() {
                            let opened = open(self.state.clone(), self.token.clone());
                            opening = Some(AbortOnDropHandle::new(tokio::spawn(opened)));
                        }
                    }
                    Step::Hello => {}
                    Step::End(reason) => match next.take() {
                        // The replacement carries on.
                        Some(replacement) => {
                            current = replacement;
                            self.open = 1;
                            self.show(SocketModeState::Connected, None);
                        }
                        None => {
                            self.open = 0;
                            return Ended::Failed(reason);
                        }
                    },
                },
                Heard::Next(frame) => {
                    let mut replacement = next.take().expect("heard from it");
                    match self.on_frame(&mut replacement, frame).await {
                        // Ready: the old one goes.
                        Step::Hello => {
                            let old = std::mem::replace(&mut current, replacement);
                            old.close().await;
                            self.open = 1;
                            self.show(SocketModeState::Connected, None);
                        }
                        Step::Go | Step::Refresh => next = Some(replacement),
                        Step::End(reason) => {
                            tracing::info!(reason = %reason, "Socket Mode: the replacement connection ended before it was ready");
                            self.open = 1;
                        }
                    }
                }
                Heard::Opened(opened) => {
                    opening = None;
                    match *opened {
                        Ok(Ok(connection)) => {
                            next = Some(connection);
                            self.open = 2;
                            self.state.interactions.outbox.metrics.socket_reconnects.fetch_add(1, Relaxed);
                        }
                        Ok(Err(Ended::Refused(message) | Ended::Failed(message))) => {
                            tracing::info!(reason = %message, "Socket Mode: could not open the replacement connection yet");
                        }
                        Ok(Err(Ended::Stopped)) | Err(_) => {}
                    }
                }
                Heard::PingTime => {
                    if current.silent_for() > SILENT_LIMIT {
                        let reason = format!("nothing from Slack for {} s", current.silent_for().as_secs());
                        if let Some(replacement) = next.take() {
                            current = replacement;
                            continue;
                        }
                        self.open = 0;
                        return Ended::Failed(reason);
                    }
                    if let Err(error) = current.ping().await {
                        self.open = 0;
                        return Ended::Failed(error.to_string());
                    }
                }
                Heard::Stop => {
                    current.close().await;
                    if let Some(replacement) = next {
                        replacement.close().await;
                    }
                    self.open = 0;
                    return Ended::Stopped;
                }
            }
        }
    }

    /// What one frame from `connection` means for the connections.
    async fn on_frame(&mut self, connection: &mut Connection, frame: FrameResult) -> Step {
        match frame {
            Ok(Some(Frame::Hello { .. })) => {
                self.up_since = Some(Instant::now());
                if self.down_since.take().is_some() {
                    tracing::info!(slack.client_id = %self.client_id, "Socket Mode: connected");
                }
                self.raised = false;
                self.show(SocketModeState::Connected, None);
                Step::Hello
            }
            Ok(Some(Frame::Envelope(envelope))) => {
                let id = envelope.envelope_id.clone();
                let accepts = envelope.accepts_response_payload;
                match self.answer(envelope).await {
                    Answer::Ack(reply) => {
                        let reply = reply.filter(|_| accepts);
                        if let Err(error) = connection.ack(&id, reply.as_ref()).await {
                            return Step::End(error.to_string());
                        }
                        self.state.interactions.outbox.metrics.socket_acks.fetch_add(1, Relaxed);
                        Step::Go
                    }
                    // Slack sends it again (here or to another replica).
                    Answer::NotNow => Step::Go,
                }
            }
            Ok(Some(Frame::Disconnect { reason })) if reason == "link_disabled" => Step::End(
                "Slack disabled Socket Mode for the app: turn it on again under Settings → Socket Mode, or remove the app-level token"
                    .to_owned(),
            ),
            Ok(Some(Frame::Disconnect { reason })) => {
                tracing::info!(slack.client_id = %self.client_id, reason = %reason, "Socket Mode: Slack asked for a fresh connection");
                Step::Refresh
            }
            Ok(Some(Frame::Other(kind))) => {
                tracing::debug!(kind = %kind, "Socket Mode: a frame Herald does not know; ignored");
                Step::Go
            }
            Ok(None) => Step::End("Slack closed the connection".to_owned()),
            Err(error) => Step::End(error.to_string()),
        }
    }

    /// Hands the envelope's payload to the handlers the https endpoints
    /// use. Anything Herald cannot act on is acknowledged all the same
    /// (Slack would only send it again); Herald's own trouble (the
    /// database) is not, so Slack retries it.
    async fn answer(&self, envelope: Envelope) -> Answer {
        self.state.interactions.outbox.metrics.socket_envelopes.fetch_add(1, Relaxed);
        let app = match self.state.interactions.store.slack_app(&self.client_id).await {
            Ok(Some(app)) => app,
            Ok(None) => return Answer::Ack(None),
            Err(error) => {
                tracing::warn!(%error, "Socket Mode: could not read the Slack app; Slack will send the envelope again");
                return Answer::NotNow;
            }
        };
        let ctx = &self.state.interactions;
        let handled = match envelope.kind.as_str() {
            "events_api" => inbound::event(ctx, &app, &envelope.payload).await,
            "interactive" => {
                match interactions::first_time(&*self.state.interactions.store, &format!("envelope {}", envelope.envelope_id)).await {
                    Ok(true) => inbound::interaction(ctx, &self.state.tasks, app, &envelope.payload).await,
                    Ok(false) => {
                        tracing::debug!(slack.envelope = %envelope.envelope_id, "Socket Mode: envelope handled before; acknowledged again");
                        Ok(None)
                    }
                    Err(error) => Err(error),
                }
            }
            other => {
                tracing::debug!(kind = other, "Socket Mode: an envelope Herald has no use for");
                Ok(None)
            }
        };
        match handled {
            Ok(reply) => Answer::Ack(reply),
            Err(Error::Broken) => Answer::NotNow,
            Err(error) => {
                tracing::warn!(%error, slack.envelope = %envelope.envelope_id, retry = envelope.retry_attempt, "Socket Mode: envelope not acted on");
                Answer::Ack(None)
            }
        }
    }
}

/// A new connection: a fresh URL from Slack, then the WebSocket.
async fn open(state: Inbound, token: SecretString) -> Result<Connection, Ended> {
    let url = match state.interactions.apps.slack().open_connection(token.expose_secret()).await {
        Ok(url) => url,
        Err(SlackError::Api(code)) if crate::slack::explain::refuses_app_token(&code) => {
            return Err(Ended::Refused(crate::slack::explain::app_token_refused(&code)));
        }
        Err(error) => return Err(Ended::Failed(format!("apps.connections.open: {error}"))),
    };
    Connection::open(&url).await.map_err(|e| Ended::Failed(e.to_string()))
}

type FrameResult = Result<Option<Frame>, crate::slack::socket_mode::SocketError>;

enum Heard {
    Current(FrameResult),
    Next(FrameResult),
    /// A replacement, opened or not (boxed: a connection is big).
    Opened(Box<Result<Result<Connection, Ended>, tokio::task::JoinError>>),
    PingTime,
    Stop,
}

enum Step {
    Go,
    Hello,
    /// Slack asked for a fresh connection.
    Refresh,
    End(String),
}

enum Answer {
    Ack(Option<Value>),
    NotNow,
}

/// The next frame of the replacement connection, if there is one (never,
/// if not).
async fn next_of(connection: &mut Option<Connection>) -> FrameResult {
    match connection {
        Some(connection) => connection.next().await,
        None => std::future::pending().await,
    }
}
