//! A running Herald with its fake Slack, a signed-in admin and an API
//! token: what the delivery and storm tests start from, with the waits
//! they share.

use reqwest::StatusCode;
use serde_json::Value;

use crate::fake_slack::Message;
use crate::{FakeSlack, Herald, Session, poll};

pub struct Scene {
    pub slack: FakeSlack,
    pub herald: Herald,
    pub admin: Session,
    /// An API token for `POST /api/alerts`.
    pub token: String,
}

impl Scene {
    /// Signs the admin in and makes an API token.
    pub async fn new(slack: FakeSlack, herald: Herald) -> Scene {
        let admin = herald.sign_in_as_admin().await;
        let token = admin.api_token().await;
        Scene { slack, herald, admin, token }
    }

    /// Sends alerts with the API token; the status and the answer.
    pub async fn send(&self, body: Value) -> (StatusCode, Value) {
        let response = self.herald.send_alerts(&self.token, &body).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Posts a webhook's notification (`/api/ingest/alertmanager`) with
    /// the API token; the status and the answer.
    pub async fn send_to(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.herald.send_to(path, &self.token, &body).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// The alert as the API shows it.
    pub async fn alert(&self, id: &str) -> Value {
        let response = self.admin.get(&format!("/api/alerts/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Waits until every delivery of the alert is in `state`; the alert.
    pub async fn until_delivered(&self, id: &str, state: &str) -> Value {
        poll::until(&format!("alert {id}'s deliveries to be {state}"), || async {
            let alert = self.alert(id).await;
            let deliveries = alert["deliveries"].as_array().unwrap();
            if !deliveries.is_empty() && deliveries.iter().all(|d| d["state"] == state) {
                Ok(alert)
            } else {
                Err(alert["deliveries"].clone())
            }
        })
        .await
    }

    /// The texts of the replies in `parent`'s thread, oldest first.
    pub fn replies_to(&self, parent: &Message) -> Vec<String> {
        self.slack
            .messages_in(&parent.channel)
            .into_iter()
            .filter(|m| m.thread_ts.as_deref() == Some(parent.ts.as_str()))
            .map(|m| m.text.unwrap_or_default())
            .collect()
    }

    /// Waits until the channel holds at least `count` messages; them all.
    pub async fn until_messages_in(&self, channel: &str, count: usize) -> Vec<Message> {
        poll::until(&format!("{count} messages in {channel}"), || async {
            let messages = self.slack.messages_in(channel);
            if messages.len() >= count { Ok(messages) } else { Err(messages.len()) }
        })
        .await
    }
}
