//! Slack's Socket Mode, the wire side: a WebSocket to the one-time URL
//! `apps.connections.open` gave, Slack's frames read as typed messages,
//! envelopes acknowledged, pings answered. What the payloads mean is not
//! known here.

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

/// Opening the WebSocket (TCP, TLS, upgrade) takes at most this long.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Slack's frames are envelopes of a few kilobytes; a modal's state is the
/// biggest. Anything near this is not Slack.
const MAX_FRAME: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("could not open the WebSocket: {0}")]
    Open(String),
    #[error("the WebSocket failed: {0}")]
    Broken(String),
    #[error("Slack sent a frame that is not Socket Mode JSON")]
    Garbled,
}

/// What Slack sends over the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// The connection is ready.
    Hello { num_connections: Option<u64> },
    /// A payload to acknowledge.
    Envelope(Envelope),
    /// Slack is about to close this connection: `warning` (soon),
    /// `refresh_requested` (open another now), `link_disabled` (Socket Mode
    /// was turned off for the app).
    Disconnect { reason: String },
    /// A kind Herald does not know (Slack may add some); ignored.
    Other(String),
}

/// One payload, exactly the body Slack would have POSTed to a Request URL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    pub envelope_id: String,
    /// `events_api`, `interactive` or `slash_commands`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub payload: Value,
    /// Whether the acknowledgement may carry an answer (a modal's errors).
    #[serde(default)]
    pub accepts_response_payload: bool,
    #[serde(default)]
    pub retry_attempt: u32,
}

/// Reads one text frame from Slack.
pub fn parse(text: &str) -> Result<Frame, SocketError> {
    let value: Value = serde_json::from_str(text).map_err(|_| SocketError::Garbled)?;
    match value["type"].as_str() {
        Some("hello") => Ok(Frame::Hello { num_connections: value["num_connections"].as_u64() }),
        Some("disconnect") => Ok(Frame::Disconnect { reason: value["reason"].as_str().unwrap_or("unknown").to_owned() }),
        Some(_) if value.get("envelope_id").is_some() => {
            serde_json::from_value(value).map(Frame::Envelope).map_err(|_| SocketError::Garbled)
        }
        Some(other) => Ok(Frame::Other(other.to_owned())),
        None => Err(SocketError::Garbled),
    }
}

/// One open Socket Mode connection.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// When Slack last sent anything (a pong included).
    heard: Instant,
}

impl Connection {
    /// Connects to a URL from `apps.connections.open`.
    pub async fn open(url: &Url) -> Result<Connection, SocketError> {
        let config = WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
        let connecting = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false);
        match tokio::time::timeout(OPEN_TIMEOUT, connecting).await {
            Ok(Ok((ws, _response))) => Ok(Connection { ws, heard: Instant::now() }),
            // The URL carries a one-time ticket: never in an error.
            Ok(Err(error)) => Err(SocketError::Open(error.to_string())),
            Err(_) => Err(SocketError::Open(format!("no answer within {} s", OPEN_TIMEOUT.as_secs()))),
        }
    }

    /// The next frame Slack sends; `None` once the connection has ended.
    /// Pings are answered on the way.
    pub async fn next(&mut self) -> Result<Option<Frame>, SocketError> {
        loop {
            let Some(message) = self.ws.next().await else { return Ok(None) };
            self.heard = Instant::now();
            match message.map_err(|e| SocketError::Broken(e.to_string()))? {
                Message::Text(text) => return parse(text.as_str()).map(Some),
                // Answered by tungstenite; sent at the next write or flush.
                Message::Ping(_) => self.ws.flush().await.map_err(|e| SocketError::Broken(e.to_string()))?,
                Message::Close(_) => return Ok(None),
                Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Acknowledges an envelope, with an answer where Slack accepts one.
    pub async fn ack(&mut self, envelope_id: &str, payload: Option<&Value>) -> Result<(), SocketError> {
        let ack = match payload {
            Some(payload) => json!({"envelope_id": envelope_id, "payload": payload}),
            None => json!({"envelope_id": envelope_id}),
        };
        self.ws.send(Message::text(ack.to_string())).await.map_err(|e| SocketError::Broken(e.to_string()))
    }

    /// How long Slack has sent nothing.
    pub fn silent_for(&self) -> Duration {
        self.heard.elapsed()
    }

    /// A ping of Herald's own: a connection that answers nothing is dead.
    pub async fn ping(&mut self) -> Result<(), SocketError> {
        self.ws.send(Message::Ping(Default::default())).await.map_err(|e| SocketError::Broken(e.to_string()))
    }

    /// Closes the connection politely (best effort).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_s_frames_are_read_as_what_they_are() {
        assert_eq!(
            parse(r#"{"type":"hello","num_connections":2,"connection_info":{"app_id":"A1"},"debug_info":{}}"#).unwrap(),
            Frame::Hello { num_connections: Some(2) }
        );
        assert_eq!(
            parse(r#"{"type":"disconnect","reason":"refresh_requested","debug_info":{}}"#).unwrap(),
            Frame::Disconnect { reason: "refresh_requested".into() }
        );
        let Frame::Envelope(envelope) = parse(
            r#"{"envelope_id":"e1","type":"interactive","payload":{"type":"block_actions"},"accepts_response_payload":false,"retry_attempt":1,"retry_reason":"timeout"}"#,
        )
        .unwrap() else {
            panic!("an envelope")
        };
        assert_eq!((envelope.envelope_id.as_str(), envelope.kind.as_str(), envelope.retry_attempt), ("e1", "interactive", 1));
        assert_eq!(envelope.payload["type"], "block_actions");
        assert_eq!(parse(r#"{"type":"something_new"}"#).unwrap(), Frame::Other("something_new".into()));
        assert!(matches!(parse("not json"), Err(SocketError::Garbled)));
        assert!(matches!(parse(r#"{"envelope_id": 5, "type": "events_api"}"#), Err(SocketError::Garbled)));
    }
}
