//! What Slack's Events API tells Herald about the app: uninstalled, or its
//! tokens revoked. Each event is handled once (Slack retries), and only
//! news about this app's own installation is believed.

use serde_json::Value;

use super::SlackApps;
use crate::domain::error::Error;
use crate::domain::outbox::Outbox;
use crate::store::SlackAppRecord;

impl SlackApps {
    /// An `event_callback` from Slack, verified as signed by `app`. A retry
    /// of an event handled before changes nothing; one whose handling
    /// failed is forgotten, so Slack's retry tries again.
    pub async fn event(&self, outbox: &Outbox, app: &SlackAppRecord, payload: &Value) -> Result<(), Error> {
        let event_id = payload["event_id"].as_str().unwrap_or_default();
        if event_id.is_empty() || !self.store.record_slack_event(event_id).await? {
            tracing::debug!(slack.event_id = event_id, "event handled before; ignoring the retry");
            return Ok(());
        }
        let handled = self.handle(outbox, app, payload).await;
        if handled.is_err() {
            let _ = self.store.forget_slack_event(event_id).await;
        }
        handled
    }

    async fn handle(&self, outbox: &Outbox, app: &SlackAppRecord, payload: &Value) -> Result<(), Error> {
        let event = &payload["event"];
        let kind = event["type"].as_str().unwrap_or_default();
        tracing::info!(slack.event_id = payload["event_id"].as_str().unwrap_or_default(), slack.event = kind, "Slack event");
        // Only news about this app's own installation counts, whichever way
        // it was installed; an unknown installation believes nothing.
        let installation = self.installation(app).await;
        let same_team = installation
            .as_ref()
            .is_some_and(|i| super::installation::is_from(i, payload["team_id"].as_str(), payload["enterprise_id"].as_str()));
        let our_bot = |list: &Value| {
            installation
                .as_ref()
                .is_some_and(|i| list.as_array().is_some_and(|bots| bots.iter().any(|b| b.as_str() == Some(i.bot_user_id.as_str()))))
        };
        let problem = match kind {
            "app_uninstalled" if same_team => {
                Some("Disconnected: the app was uninstalled from Slack. Reinstall it and save the new bot token.")
            }
            "tokens_revoked" if same_team && our_bot(&event["tokens"]["bot"]) => {
                Some("Disconnected: Slack revoked the app's tokens. Reinstall the app and save the new bot token.")
            }
            // The channel check asks Slack itself; the event needs no state.
            _ => None,
        };
        if let Some(problem) = problem {
            let news = app.problem.as_deref() != Some(problem);
            self.store.set_slack_app_problem(&app.client_id, Some(problem)).await?;
            if news {
                crate::domain::system::app_disconnected(&*self.store, outbox, &app.client_id, problem).await?;
            }
        }
        Ok(())
    }
}
