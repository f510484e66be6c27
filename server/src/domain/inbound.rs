//! What Slack sends Herald, however it arrives: POSTed to `/slack/*` over
//! https (signed) or over a Socket Mode connection Herald opened (vouched
//! for by the connection). Both hand the payload here, so a click means the
//! same whichever way it came.

use serde_json::{Value, json};
use tokio_util::task::TaskTracker;

use super::error::Error;
use super::interactions::{self, Interactions};
use super::slack_app::installation;
use crate::store::SlackAppRecord;

/// What Slack is answered with, beyond "received".
pub type Reply = Option<Value>;

fn bad(reason: impl std::fmt::Display) -> Error {
    Error::BadSlackPayload(reason.to_string())
}

/// An Events API body (`url_verification` or `event_callback`) from `app`.
pub async fn event(ctx: &Interactions, app: &SlackAppRecord, payload: &Value) -> Result<Reply, Error> {
    match payload["type"].as_str() {
        Some("url_verification") => Ok(Some(json!({"challenge": payload["challenge"].as_str().unwrap_or_default()}))),
        Some("event_callback") => {
            ctx.apps.event(&ctx.outbox, app, payload).await?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// An interaction (a click, a submitted or closed modal) from `app`'s
/// workspace. Slack is answered at once; the work, which calls Slack, goes
/// on in `tasks` after.
pub async fn interaction(ctx: &Interactions, tasks: &TaskTracker, app: SlackAppRecord, payload: &Value) -> Result<Reply, Error> {
    // Only from the workspace (or org) the app is installed in, whichever
    // way it was installed.
    let Some(installation) = ctx.apps.installation(&app).await else {
        tracing::warn!(slack.client_id = %app.client_id, "refused a Slack interaction: the app's workspace is not known yet");
        return Err(bad("Herald does not know yet which workspace this app is installed in; save the bot token again"));
    };
    if !installation::is_from(&installation, payload["team"]["id"].as_str(), payload["enterprise"]["id"].as_str()) {
        tracing::warn!(
            slack.team_id = payload["team"]["id"].as_str().unwrap_or_default(),
            "refused a Slack interaction from another workspace"
        );
        return Err(bad("it comes from a workspace this app is not installed in"));
    }
    let app = SlackAppRecord { installation: Some(installation), ..app };
    match payload["type"].as_str() {
        Some("block_actions") => {
            let click = interactions::read_click(payload).map_err(bad)?;
            tracing::info!(slack.action = %click.action_id, alert.id = %click.alert_id, "Slack click");
            tasks.spawn(interactions::click(ctx.clone(), app, click));
            Ok(None)
        }
        Some("view_submission") => match interactions::read_submission(payload).map_err(bad)? {
            // Shown in the modal, which stays open.
            Err(errors) => Ok(Some(json!({"response_action": "errors", "errors": errors}))),
            Ok(submission) => {
                tasks.spawn(interactions::submit(ctx.clone(), app, submission));
                Ok(None)
            }
        },
        // A modal closed without submitting: nothing to do.
        Some("view_closed") => Ok(None),
        Some(other) => Err(bad(format!("type {other:?}"))),
        None => Err(bad("the payload has no type")),
    }
}
