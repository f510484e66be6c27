//! A destination's channel in Slack: finding it, knowing whether the bot
//! is in it, and the welcome message that proves the whole path works.

use herald_model::destination::{ChannelCheck, ChannelRef, ChannelState, WelcomeOutcome};
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::domain::error::Error;
use crate::domain::slack_app::SlackApps;
use crate::slack::client::{Conversation, SlackError};
use crate::slack::explain::explain;
use crate::store::Store;

/// Finds the channel: by ID directly; by name through every page of the
/// channels the bot may see, then by the ID remembered for a minute.
async fn find(apps: &SlackApps, app: &str, token: &str, channel: &ChannelRef) -> Result<Conversation, SlackError> {
    match channel {
        ChannelRef::Id(id) => apps.slack().conversation_info(token, id).await,
        ChannelRef::Name(name) => {
            let key = (app.to_owned(), name.clone());
            if let Some(id) = apps.cache().channels.get(&key) {
                return apps.slack().conversation_info(token, &id).await;
            }
            let all = apps.slack().all_conversations(token, None).await?;
            let found = all.into_iter().find(|c| &c.name == name).ok_or_else(|| SlackError::Api("channel_not_found".into()))?;
            apps.cache().channels.put(key, found.id.clone());
            Ok(found)
        }
    }
}

/// Step 6's live check: is the bot in the channel yet? With `typed`, the
/// same question about a channel typed in step 5 but not saved yet, so a
/// channel Slack has never heard of is caught where it is typed.
pub async fn check(store: &dyn Store, apps: &SlackApps, id: &str, typed: Option<&str>) -> Result<ChannelCheck, Error> {
    let (record, app) = super::load(store, id).await?;
    let channel = ChannelRef::parse("channel", typed.unwrap_or(&record.settings.channel))?;
    let app = app.ok_or(Error::NoToken)?;
    let shown = channel.display();
    // An org-wide install sees every workspace's channels: Slack lists
    // them per workspace only, so a name cannot be looked up.
    let org_wide = app.installation.as_ref().is_some_and(|i| i.is_enterprise_install);
    if org_wide && matches!(channel, ChannelRef::Name(_)) {
        return Ok(ChannelCheck { state: ChannelState::Problem, channel_id: None, message: super::ORG_WIDE_NEEDS_ID.to_owned() });
    }
    let (token, found) = apps
        .renewing(&app, |token| {
            let (client_id, channel) = (&app.client_id, &channel);
            async move { find(apps, client_id, token.expose_secret(), channel).await }
        })
        .await?;
    let bot = apps.bot_name(&app.client_id, token.expose_secret()).await;
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
pub async fn welcome(store: &dyn Store, apps: &SlackApps, id: &str) -> Result<WelcomeOutcome, Error> {
    let (record, app) = super::load(store, id).await?;
    let channel = ChannelRef::parse("channel", &record.settings.channel)?;
    let app = app.ok_or(Error::NoToken)?;
    let shown = channel.display();
    let target = match &channel {
        ChannelRef::Id(id) => id.clone(),
        ChannelRef::Name(name) => format!("#{name}"),
    };
    let name = crate::slack::escape(&record.settings.display_name);
    let text = format!("👋 Herald is connected. Alerts for *{name}* will arrive in this channel, and you can triage them right here.");
    let message = json!({"channel": target, "text": text, "unfurl_links": false});
    let (token, sent) = apps
        .renewing(&app, |token| {
            let message = &message;
            async move { apps.slack().post_message(token.expose_secret(), message).await }
        })
        .await?;
    match sent {
        Ok(posted) => {
            tracing::info!(destination.id = %record.id, slack.channel = %posted.channel, "welcome message sent");
            Ok(WelcomeOutcome { sent: true, message: format!("Sent: the welcome message is in {shown}."), slack_error: None })
        }
        Err(error) => {
            tracing::warn!(destination.id = %record.id, slack.error = %error, "welcome message refused");
            let bot = apps.bot_name(&app.client_id, token.expose_secret()).await;
            Ok(WelcomeOutcome { sent: false, message: explain(&error, &shown, &bot), slack_error: error.code().map(str::to_owned) })
        }
    }
}
