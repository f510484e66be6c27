//! A destination's channel in Slack: finding it, knowing whether the bot
//! is in it, and the welcome message that proves the whole path works.

use herald_model::destination::{ChannelCheck, ChannelRef, ChannelState, WelcomeOutcome};
use herald_model::manifest::{DEFAULT_APP_NAME, bot_display_name};
use serde_json::json;

use crate::slack::client::{Conversation, SlackError};
use crate::slack::explain::explain;
use crate::AppState;
use crate::domain::destinations;
use crate::http::error::ApiError;

/// Finds the channel: by ID directly; by name through every page of the
/// channels the bot may see, then by the ID remembered for a minute.
async fn find(state: &AppState, app: &str, token: &str, channel: &ChannelRef) -> Result<Conversation, SlackError> {
    match channel {
        ChannelRef::Id(id) => state.slack.conversation_info(token, id).await,
        ChannelRef::Name(name) => {
            let key = format!("channel:{app}:{name}");
            if let Some(id) = state.slack_cache.get(&key) {
                return state.slack.conversation_info(token, &id).await;
            }
            let all = state.slack.all_conversations(token, None).await?;
            let found = all.into_iter().find(|c| &c.name == name).ok_or_else(|| SlackError::Api("channel_not_found".into()))?;
            state.slack_cache.put(key, found.id.clone());
            Ok(found)
        }
    }
}

/// The bot's handle, as Slack knows it (the default when Slack won't say).
pub async fn bot_name(state: &AppState, app: &str, token: &str) -> String {
    let key = format!("bot:{app}");
    if let Some(name) = state.slack_cache.get(&key) {
        return name;
    }
    match state.slack.auth_test(token).await {
        Ok(me) => {
            let name = me.user.unwrap_or_else(|| bot_display_name(DEFAULT_APP_NAME));
            state.slack_cache.put(key, name.clone());
            name
        }
        Err(_) => bot_display_name(DEFAULT_APP_NAME),
    }
}

/// Step 6's live check: is the bot in the channel yet? With `typed`, the
/// same question about a channel typed in step 5 but not saved yet, so a
/// channel Slack has never heard of is caught where it is typed.
pub async fn check(state: &AppState, id: &str, typed: Option<&str>) -> Result<ChannelCheck, ApiError> {
    let (record, app) = destinations::load(state, id).await?;
    let channel = ChannelRef::parse("channel", typed.unwrap_or(&record.values.channel))?;
    let app = app.ok_or_else(destinations::missing_token)?;
    let shown = channel.display();
    // An org-wide install sees every workspace's channels: Slack lists
    // them per workspace only, so a name cannot be looked up.
    let org_wide = app.installation.as_ref().is_some_and(|i| i.is_enterprise_install);
    if org_wide && matches!(channel, ChannelRef::Name(_)) {
        return Ok(ChannelCheck { state: ChannelState::Problem, channel_id: None, message: destinations::ORG_WIDE_NEEDS_ID.to_owned() });
    }
    let (token, found) = super::tokens::renewing(state, &app, |token| {
        let (client_id, channel) = (&app.client_id, &channel);
        async move { find(state, client_id, &token, channel).await }
    })
    .await?;
    let bot = bot_name(state, &app.client_id, &token).await;
    Ok(match found {
        Ok(found) if found.is_archived => ChannelCheck {
            state: ChannelState::Problem,
            channel_id: Some(found.id),
            message: explain(&SlackError::Api("is_archived".into()), &shown, &bot),
        },
        Ok(found) if found.is_member => {
            ChannelCheck { state: ChannelState::Ready, channel_id: Some(found.id), message: format!("✓ @{bot} is in {shown}") }
        }
        Ok(found) => ChannelCheck {
            state: ChannelState::Waiting,
            channel_id: Some(found.id),
            message: format!("Waiting for @{bot} to join {shown}: type /invite @{bot} there."),
        },
        Err(error) => ChannelCheck { state: ChannelState::Problem, channel_id: None, message: explain(&error, &shown, &bot) },
    })
}

/// Posts the welcome message and says what happened.
pub async fn welcome(state: &AppState, id: &str) -> Result<WelcomeOutcome, ApiError> {
    let (record, app) = destinations::load(state, id).await?;
    let channel = ChannelRef::parse("channel", &record.values.channel)?;
    let app = app.ok_or_else(destinations::missing_token)?;
    let shown = channel.display();
    let target = match &channel {
        ChannelRef::Id(id) => id.clone(),
        ChannelRef::Name(name) => format!("#{name}"),
    };
    let name = crate::slack::escape(&record.values.display_name);
    let text = format!(
        "👋 Herald is connected. Alerts for *{name}* will arrive in this channel, and you can triage them right here."
    );
    let message = json!({"channel": target, "text": text, "unfurl_links": false});
    let (token, sent) = super::tokens::renewing(state, &app, |token| {
        let message = &message;
        async move { state.slack.post_message(&token, message).await }
    })
    .await?;
    match sent {
        Ok(posted) => {
            tracing::info!(destination.id = %record.id, slack.channel = %posted.channel, "welcome message sent");
            Ok(WelcomeOutcome { sent: true, message: format!("Sent: the welcome message is in {shown}."), slack_error: None })
        }
        Err(error) => {
            tracing::warn!(destination.id = %record.id, slack.error = %error, "welcome message refused");
            let bot = bot_name(state, &app.client_id, &token).await;
            Ok(WelcomeOutcome { sent: false, message: explain(&error, &shown, &bot), slack_error: error.code().map(str::to_owned) })
        }
    }
}
