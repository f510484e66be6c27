//! A destination's mentions made ready to send: user groups typed by their
//! handle (`@sec-oncall`) are looked up with Slack's `usergroups.list`
//! when the settings are saved, so a message names each by its ID.

use herald_model::api::FieldError;
use herald_model::manifest::USER_GROUPS_SCOPE;
use herald_model::mention::{self, Mention, Mentions};
use secrecy::ExposeSecret as _;

use crate::domain::error::Error;
use crate::domain::slack_app::SlackApps;
use crate::slack::client::{SlackError, UserGroup};
use crate::store::SlackAppRecord;

/// Turns every handle in `mentions` into its user group: from what the
/// destination had already, else from Slack (with the token just pasted,
/// or the app's). A handle Slack does not know, or a lookup Slack refuses,
/// is an error on the severity's field that says what to do.
pub async fn look_up(
    apps: &SlackApps,
    app: Option<&SlackAppRecord>,
    pasted_token: Option<&str>,
    before: &Mentions,
    mentions: &mut Mentions,
) -> Result<(), Error> {
    mentions.reuse_groups(before);
    // The field a refused lookup is named on: the first handle's.
    let Some(FieldError { field, .. }) = mentions.unresolved() else {
        *mentions = mentions.validate()?;
        return Ok(());
    };
    let team = app.and_then(|a| a.installation.as_ref()).and_then(|i| i.team_id.clone());
    let answer = match (pasted_token, app) {
        (Some(token), _) => apps.slack().user_groups(token, team.as_deref()).await,
        (None, Some(app)) if app.bot_token.is_some() => {
            let team = team.as_deref();
            apps.renewing(app, |token| async move { apps.slack().user_groups(token.expose_secret(), team).await }).await?.1
        }
        _ => {
            return Err(FieldError::new(
                field,
                "Herald looks user groups up with the app's bot token: install the app first, or enter the group's ID, like S0123ABCD.",
            )
            .into());
        }
    };
    let groups = answer.map_err(|error| FieldError::new(field.clone(), refused(&error)))?;
    let mut errors = Vec::new();
    for (severity, mention) in mentions.iter_mut() {
        let Mention::Handle(handle) = mention else { continue };
        let field = mention::field(severity);
        match groups.iter().find(|g| g.handle.eq_ignore_ascii_case(handle)) {
            // Slack's answer is parsed like anything typed: only a group
            // ID of the shape Slack gives is ever stored.
            Some(group) => match Mention::group(&group.id, &group.handle) {
                Some(found) => *mention = found,
                None => errors.push(FieldError::new(
                    field,
                    format!("Slack gave @{handle} an ID Herald does not recognise: enter the group's ID instead, like S0123ABCD."),
                )),
            },
            None => errors.push(FieldError::new(field, unknown(handle, &groups))),
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    // A group typed by handle and by ID is mentioned once.
    *mentions = mentions.validate()?;
    Ok(())
}

/// Why Slack would not list the user groups, and what to do.
fn refused(error: &SlackError) -> String {
    match error {
        SlackError::Api(code) if code == "missing_scope" => format!(
            "The Slack app may not look up user groups: it lacks the {USER_GROUPS_SCOPE} scope. Add it under OAuth & Permissions → \
             Scopes (or create the app from the wizard's manifest with \"Mention user groups\" ticked) and reinstall the app; \
             or enter the group's ID, like S0123ABCD."
        ),
        SlackError::Api(code) if code == "paid_only" || code == "plan_upgrade_required" => {
            "This Slack workspace's plan has no user groups: mention @here, @channel or people instead.".to_owned()
        }
        SlackError::Api(code) => format!("Slack would not list the user groups ({code}): enter the group's ID instead, like S0123ABCD."),
        other => {
            tracing::warn!(slack.error = %other, "could not look up user groups");
            "Herald could not reach Slack to look up the user groups; nothing was saved. Try again, or enter the group's ID.".to_owned()
        }
    }
}

/// No user group has the handle: say which there are.
fn unknown(handle: &str, groups: &[UserGroup]) -> String {
    if groups.is_empty() {
        return format!("No user group @{handle} in the workspace: it has none yet.");
    }
    let mut handles: Vec<String> = groups.iter().take(10).map(|g| format!("@{}", g.handle)).collect();
    if groups.len() > 10 {
        handles.push(format!("and {} more", groups.len() - 10));
    }
    format!("No user group @{handle} in the workspace; it has {}.", handles.join(", "))
}
